/* NormScope's measuring hooks as C callables: the CPython extension `_normscope_hooks`, compiled on first use by
   native.py when Python's headers are there (else meter.py's Python hooks run; they are the reference this file
   follows line by line). Why: per layer and step, the Python hooks' own work (attribute reads, tuples, ctypes calls)
   cost more than the statistics; here the same steps are C-API calls and direct calls of the fused kernels, which
   this file includes. Only the common case is done here: float32 CPU tensors laid out densely, a measured layer at
   a sampled step. Anything else calls the Meter's Python method for that part, so both paths share one state (the
   step's buffer, plan and seen tables) and give the same numbers (test/unit/pytorch_meter_check.py). */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

#include "measuring.h"

PyObject *TensorType, *Float32, *Strided, *IsGradEnabled, *HasTorchFunction, *OrderedDict; /* read at import */
/* torch's TorchFunctionMode stack (torch 1.13+; NULL before): the hooks take the Meter's mode off while they run */
PyObject *ModeStackLen, *ModeStackAt, *ModePop, *ModePush;
PyObject *s_sampling, *s_shape, *s_dtype, *s_layout, *s_is_cpu, *s_is_contiguous, *s_data_ptr, *s_version, *s_requires_grad,
    *s_register_hook, *s_used, *s_capacity, *s_base, *s_training, *s_running_mean, *s_running_var, *s_moments, *s_dead, *s_sat_slot, *s_measure_input, *s_bn_gap,
    *s_grad_norm, *s_backward_hooks, *s_grad_fn, *s_register_hook_dict;

int64_t get_int(PyObject *o, PyObject *name) {
    PyObject *v = PyObject_GetAttr(o, name);
    if (!v) return -1;
    int64_t r = v == Py_None ? -1 : PyLong_AsLongLong(v);
    Py_DECREF(v);
    return r;
}

int is_none_attr(PyObject *o, PyObject *name) {
    PyObject *v = PyObject_GetAttr(o, name);
    if (!v) return -1;
    int r = v == Py_None;
    Py_DECREF(v);
    return r;
}

static int64_t call_int(PyObject *o, PyObject *name) {
    PyObject *v = PyObject_CallMethodNoArgs(o, name);
    if (!v) return -1;
    int64_t r = PyLong_AsLongLong(v);
    Py_DECREF(v);
    return r;
}

static int attr_is(PyObject *o, PyObject *name, PyObject *value) {
    PyObject *v = PyObject_GetAttr(o, name);
    if (!v) return -1;
    int r = v == value;
    Py_DECREF(v);
    return r;
}

void info_clear(Info *t) { Py_CLEAR(t->shape); }

/* -1 on a Python error (then nothing is held). */
int info(PyObject *t, Info *ti) {
    memset(ti, 0, sizeof *ti);
    if (!(ti->shape = PyObject_GetAttr(t, s_shape))) return -1;
    ti->dims = (int)PyTuple_GET_SIZE(ti->shape);
    ti->numel = 1;
    for (int d = 0; d < ti->dims; d++) ti->numel *= PyLong_AsLongLong(PyTuple_GET_ITEM(ti->shape, d));
    int strided, cpu;
    if ((ti->f32 = attr_is(t, s_dtype, Float32)) < 0 || (strided = attr_is(t, s_layout, Strided)) < 0 || (cpu = attr_is(t, s_is_cpu, Py_True)) < 0)
        goto fail;
    PyObject *c = PyObject_CallMethodNoArgs(t, s_is_contiguous);
    if (!c) goto fail;
    ti->contiguous = c == Py_True;
    Py_DECREF(c);
    if (ti->contiguous) {
        if ((ti->ptr = call_int(t, s_data_ptr)) == -1 && PyErr_Occurred()) goto fail;
        if ((ti->version = get_int(t, s_version)) == -1 && PyErr_Occurred()) goto fail;
    }
    ti->usable = ti->f32 && strided && cpu && ti->contiguous;
    return 0;
fail:
    info_clear(ti);
    return -1;
}


int64_t dim_size(Info *ti, int d) { return PyLong_AsLongLong(PyTuple_GET_ITEM(ti->shape, d < 0 ? ti->dims + d : d)); }

/* StepBuffer.take in C while there is room (else the Python method grows the buffer); -1 on error. */
int64_t take(State *s, int64_t count) {
    int64_t used = get_int(s->buffer, s_used), capacity = get_int(s->buffer, s_capacity);
    if (PyErr_Occurred()) return -1;
    if (used + count > capacity) {
        PyObject *r = PyObject_CallMethod(s->buffer, "take", "L", (long long)count);
        if (!r) return -1;
        int64_t slot = PyLong_AsLongLong(r);
        Py_DECREF(r);
        return slot;
    }
    PyObject *v = PyLong_FromLongLong(used + count);
    if (!v || PyObject_SetAttr(s->buffer, s_used, v) < 0) { Py_XDECREF(v); return -1; }
    Py_DECREF(v);
    return used;
}

double *address(State *s, int64_t slot) {
    int64_t base = get_int(s->buffer, s_base);
    return base == -1 && PyErr_Occurred() ? NULL : (double *)(intptr_t)base + slot;
}

int64_t *plan_row(State *s, Py_ssize_t layer) { return (int64_t *)s->plan.buf + layer * FIELDS; }

/* Meter._fused_moments: a new Moments of the fused pass over `t`. */
static PyObject *fused_moments(State *s, PyObject *t, Info *ti, PyObject *layer, PyObject *sat, int per_channel, int columns) {
    int64_t channels = per_channel ? dim_size(ti, 1) : 0;
    int64_t base = take(s, STATS + 3 * channels);
    double *out = base < 0 ? NULL : address(s, base);
    if (!out) return NULL;
    double center = 0, threshold = -1;
    if (sat != Py_None) {
        center = PyFloat_AsDouble(PyTuple_GET_ITEM(sat, 0));
        threshold = PyFloat_AsDouble(PyTuple_GET_ITEM(sat, 1));
    }
    int64_t rows = channels ? dim_size(ti, 0) * channels : 1;
    ns_stats((const float *)(intptr_t)ti->ptr, rows, ti->numel / rows, channels, (float)center, (float)threshold, out);
    PyObject *ref = PyWeakref_NewRef(t, NULL);
    if (!ref) return NULL;
    Moments *m = moments_make(base, ti->numel, ti->shape, ref, layer, 1, channels, sat);
    Py_DECREF(ref);
    if (!m) return NULL;
    if (channels) m->chan = base + STATS;
    if (columns) {
        int64_t f = dim_size(ti, -1), cols = take(s, COLUMNS * f + 1);
        double *at = cols < 0 ? NULL : address(s, cols);
        if (!at) {
            Py_DECREF(m);
            return NULL;
        }
        m->cols = cols;
        ns_columns((const float *)(intptr_t)ti->ptr, ti->numel / f, f, at);
    }
    return (PyObject *)m;
}

/* Meter._moments: the Moments of `t` measured this step, else new ones (by the Meter's Python method when `t` is not
   usable by the fused pass). layer: an int or None; sat: a tuple or None. */
PyObject *moments(State *s, PyObject *t, Info *ti, int full, PyObject *layer, PyObject *sat, int relu) {
    PyObject *key = NULL, *m;
    if (ti->contiguous) {
        if (!(key = Py_BuildValue("(LLL)", (long long)ti->ptr, (long long)ti->numel, (long long)ti->version))) return NULL;
        m = PyDict_GetItemWithError(s->seen, key);
        if (!m && PyErr_Occurred()) goto fail;
        if (m && !relu) {
            Moments *seen = as_moments(m);
            if (!seen) goto fail;
            int ok = PyWeakref_GetObject(seen->ref) != Py_None && (seen->full || !full);
            if (ok && sat != Py_None) ok = PyObject_RichCompareBool(seen->sat, sat, Py_EQ) == 1;
            if (PyErr_Occurred()) goto fail;
            if (ok) { Py_DECREF(key); return Py_NewRef(m); }
        }
    }
    if (!ti->usable) {
        Py_XDECREF(key);
        return PyObject_CallMethodObjArgs(s->meter, s_moments, t, full ? Py_True : Py_False, layer, sat, relu ? Py_True : Py_False, NULL);
    }
    int feeds_bn = layer != Py_None ? PySet_Contains(s->feeds_bn, layer) : 0;
    if (feeds_bn < 0) goto fail;
    int d = ti->dims;
    m = fused_moments(s, t, ti, layer, sat, d >= 3 && (feeds_bn || (relu && d >= 4)), (d == 2 && feeds_bn) || (relu && d <= 3));
    if (!m || PyDict_SetItem(s->seen, key, m) < 0) { Py_XDECREF(m); goto fail; }
    Py_DECREF(key);
    return m;
fail:
    Py_XDECREF(key);
    return NULL;
}

