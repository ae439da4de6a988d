/* stats_math.Moments as a C type (part of the hooks extension): where one tensor's reductions are. With the compiled hooks
   the Meter makes every Moments of this type, so the hooks read and write its fields directly instead of through
   attribute lookups and a Python __init__ (which also asked the tensor for its size and shape again). Python sees
   the same attributes as stats_math.Moments; chan and cols are None or a slot number. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

#include "measuring.h"

/* A new Moments: steals nothing; object arguments may be Py_None. */
Moments *moments_make(long long base, long long n, PyObject *shape, PyObject *ref, PyObject *layer, int full, long long channels, PyObject *sat) {
    Moments *m = PyObject_New(Moments, &MomentsType);
    if (!m) return NULL;
    m->base = base;
    m->n = n;
    m->channels = channels;
    m->chan = m->cols = -1;
    m->full = (char)full;
    m->ref = Py_NewRef(ref);
    m->shape = Py_NewRef(shape);
    m->layer = Py_NewRef(layer);
    m->sat = Py_NewRef(sat);
    m->row_sum = Py_NewRef(Py_None);
    m->row_norm = Py_NewRef(Py_None);
    return m;
}

/* Moments(base, t, ref, layer, full, channels=0, sat=None), as stats_math.Moments. */
static PyObject *moments_new(PyTypeObject *Py_UNUSED(type), PyObject *args, PyObject *kw) {
    static char *names[] = {"base", "t", "ref", "layer", "full", "channels", "sat", NULL};
    long long base, channels = 0;
    PyObject *t, *ref, *layer, *sat = Py_None;
    int full;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "LOOOp|LO", names, &base, &t, &ref, &layer, &full, &channels, &sat)) return NULL;
    PyObject *shape = PyObject_GetAttr(t, s_shape);
    if (!shape) return NULL;
    if (!PyTuple_Check(shape)) {
        Py_DECREF(shape);
        return PyErr_Format(PyExc_TypeError, "Moments needs a tensor");
    }
    long long n = 1;
    for (Py_ssize_t d = 0; d < PyTuple_GET_SIZE(shape); d++) n *= PyLong_AsLongLong(PyTuple_GET_ITEM(shape, d));
    Moments *m = PyErr_Occurred() ? NULL : moments_make(base, n, shape, ref, layer, full, channels, sat);
    Py_DECREF(shape);
    return (PyObject *)m;
}

static void moments_dealloc(Moments *m) {
    Py_XDECREF(m->ref);
    Py_XDECREF(m->shape);
    Py_XDECREF(m->layer);
    Py_XDECREF(m->sat);
    Py_XDECREF(m->row_sum);
    Py_XDECREF(m->row_norm);
    PyObject_Free(m);
}

static PyObject *slot_get(Moments *m, void *which) {
    long long v = which ? m->cols : m->chan;
    return v < 0 ? Py_NewRef(Py_None) : PyLong_FromLongLong(v);
}

static int slot_set(Moments *m, PyObject *value, void *which) {
    long long v = !value || value == Py_None ? -1 : PyLong_AsLongLong(value);
    if (v == -1 && PyErr_Occurred()) return -1;
    if (which) m->cols = v;
    else m->chan = v;
    return 0;
}

static PyGetSetDef moments_getset[] = {
    {"chan", (getter)slot_get, (setter)slot_set, "first slot of the per-channel sums, or None", NULL},
    {"cols", (getter)slot_get, (setter)slot_set, "first slot of the per-column sums, or None", (void *)1},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMemberDef moments_members[] = {
    {"base", T_LONGLONG, offsetof(Moments, base), 0, NULL},
    {"n", T_LONGLONG, offsetof(Moments, n), 0, NULL},
    {"channels", T_LONGLONG, offsetof(Moments, channels), 0, NULL},
    {"full", T_BOOL, offsetof(Moments, full), 0, NULL},
    {"ref", T_OBJECT, offsetof(Moments, ref), 0, NULL},
    {"shape", T_OBJECT, offsetof(Moments, shape), 0, NULL},
    {"layer", T_OBJECT, offsetof(Moments, layer), 0, NULL},
    {"sat", T_OBJECT, offsetof(Moments, sat), 0, NULL},
    {"row_sum", T_OBJECT, offsetof(Moments, row_sum), 0, NULL},
    {"row_norm", T_OBJECT, offsetof(Moments, row_norm), 0, NULL},
    {NULL, 0, 0, 0, NULL},
};

PyTypeObject MomentsType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "_normscope_hooks.Moments",
    .tp_doc = "Moments(base, t, ref, layer, full, channels=0, sat=None): stats_math.Moments in C",
    .tp_basicsize = sizeof(Moments),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = moments_new,
    .tp_dealloc = (destructor)moments_dealloc,
    .tp_members = moments_members,
    .tp_getset = moments_getset,
};

/* The Moments in the seen table, checked (a Meter with the compiled hooks makes only these). */
Moments *as_moments(PyObject *o) {
    if (Py_TYPE(o) != &MomentsType) {
        PyErr_SetString(PyExc_TypeError, "the compiled hooks need their own Moments");
        return NULL;
    }
    return (Moments *)o;
}
