/* The types and module of the hooks extension. Every type takes part in garbage collection: a Meter holds its
   State and hooks, and they hold the Meter. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stddef.h>
#include <structmember.h>

#include "measuring.h"

static int bind_plan(State *s);

static int state_init(State *s, PyObject *args, PyObject *Py_UNUSED(kw)) {
    PyObject *meter, *relu, *bn, *sat, *moving_state;
    if (!PyArg_ParseTuple(args, "OSSO!O", &meter, &relu, &bn, &PyList_Type, &sat, &moving_state)) return -1;
    if (s->meter) {
        PyErr_SetString(PyExc_RuntimeError, "a State is initialised once");
        return -1;
    }
    Py_ssize_t layers = PyBytes_GET_SIZE(relu);
    if (PyBytes_GET_SIZE(bn) != layers || PyList_GET_SIZE(sat) != layers) {
        PyErr_SetString(PyExc_ValueError, "one relu flag, BatchNorm flag and saturation per layer");
        return -1;
    }
    s->meter = Py_NewRef(meter);
    s->sat = Py_NewRef(sat);
    s->relu = PyBytes_AS_STRING(relu);
    s->bn = PyBytes_AS_STRING(bn);
    s->bytes = PyTuple_Pack(2, relu, bn); /* keeps the flags' memory */
    s->layers = layers;
    s->moving_state = Py_NewRef(moving_state);
    if (!s->bytes || !(s->buffer = PyObject_GetAttrString(meter, "buffer")) || !(s->seen = PyObject_GetAttrString(meter, "seen")) ||
        !(s->grads_seen = PyObject_GetAttrString(meter, "grads_seen")) || !(s->shapes = PyObject_GetAttrString(meter, "shapes")) ||
        !(s->feeds_bn = PyObject_GetAttrString(meter, "feeds_bn")) || !(s->fed_by = PyObject_GetAttrString(meter, "fed_by")))
        return -1;
    s->mode = Py_NewRef(Py_None);
    if (!PyDict_CheckExact(s->seen) || !PyDict_CheckExact(s->grads_seen) || !PyDict_CheckExact(s->shapes) || !PyAnySet_Check(s->feeds_bn) ||
        !PyDict_CheckExact(s->fed_by)) {
        PyErr_SetString(PyExc_TypeError, "the Meter's seen tables, shapes and fed_by must be dicts, feeds_bn a set");
        return -1;
    }
    return bind_plan(s);
}

/* Holds the Meter's current plan (at init, and after the Meter replaced it by a longer one for a new row). */
static int bind_plan(State *s) {
    PyObject *plan = PyObject_GetAttrString(s->meter, "plan");
    if (!plan) return -1;
    Py_buffer view;
    int rc = PyObject_GetBuffer(plan, &view, PyBUF_WRITABLE | PyBUF_FORMAT);
    Py_DECREF(plan);
    if (rc < 0) return -1;
    if (view.itemsize != 8 || strcmp(view.format, "q") != 0 || view.len < s->layers * FIELDS * 8) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "the plan must be an int64 array of FIELDS slots per layer");
        return -1;
    }
    if (s->has_plan) PyBuffer_Release(&s->plan);
    s->plan = view;
    s->has_plan = 1;
    return 0;
}

static PyObject *state_replan(State *s, PyObject *Py_UNUSED(unused)) {
    if (!s->meter) {
        PyErr_SetString(PyExc_RuntimeError, "the State is not initialised");
        return NULL;
    }
    return bind_plan(s) < 0 ? NULL : Py_NewRef(Py_None);
}

static PyMethodDef state_methods[] = {
    {"replan", (PyCFunction)state_replan, METH_NOARGS, "replan(): hold the Meter's plan again (it replaced it by a longer one)"},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef state_members[] = {
    {"mode", T_OBJECT, offsetof(State, mode), 0, "the Meter's TorchFunctionMode while it is on torch's stack, else None"},
    {NULL, 0, 0, 0, NULL},
};

static int state_traverse(State *s, visitproc visit, void *arg) {
    Py_VISIT(s->meter);
    Py_VISIT(s->buffer);
    Py_VISIT(s->seen);
    Py_VISIT(s->grads_seen);
    Py_VISIT(s->shapes);
    Py_VISIT(s->feeds_bn);
    Py_VISIT(s->sat);
    Py_VISIT(s->fed_by);
    Py_VISIT(s->mode);
    Py_VISIT(s->bytes);
    Py_VISIT(s->moving_state);
    if (s->has_plan) Py_VISIT(s->plan.obj);
    return 0;
}

static int state_clear(State *s) {
    if (s->has_plan) { PyBuffer_Release(&s->plan); s->has_plan = 0; }
    Py_CLEAR(s->meter);
    Py_CLEAR(s->buffer);
    Py_CLEAR(s->seen);
    Py_CLEAR(s->grads_seen);
    Py_CLEAR(s->shapes);
    Py_CLEAR(s->feeds_bn);
    Py_CLEAR(s->sat);
    Py_CLEAR(s->fed_by);
    Py_CLEAR(s->mode);
    Py_CLEAR(s->bytes);
    Py_CLEAR(s->moving_state);
    return 0;
}

static void state_dealloc(State *s) {
    PyObject_GC_UnTrack(s);
    state_clear(s);
    Py_TYPE(s)->tp_free((PyObject *)s);
}

static PyTypeObject StateType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "_normscope_hooks.State",
    .tp_doc = "State(meter, relu flags, BatchNorm flags, saturations, moving_state): what the hooks share with a Meter",
    .tp_basicsize = sizeof(State),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)state_init,
    .tp_methods = state_methods,
    .tp_members = state_members,
    .tp_traverse = (traverseproc)state_traverse,
    .tp_clear = (inquiry)state_clear,
    .tp_dealloc = (destructor)state_dealloc,
};

static int check_state(PyObject *state, Py_ssize_t layer) {
    if (!PyObject_TypeCheck(state, &StateType) || !((State *)state)->has_plan) {
        PyErr_SetString(PyExc_TypeError, "a hook needs an initialised State");
        return -1;
    }
    if (layer < 0 || layer >= ((State *)state)->layers) {
        PyErr_SetString(PyExc_IndexError, "layer out of range");
        return -1;
    }
    return 0;
}

static int hook_traverse(Hook *h, visitproc visit, void *arg) {
    Py_VISIT(h->state);
    Py_VISIT(h->module);
    Py_VISIT(h->python_hook);
    Py_VISIT(h->grad_hook);
    return 0;
}

static int hook_clear(Hook *h) {
    Py_CLEAR(h->state);
    Py_CLEAR(h->layer_obj);
    Py_CLEAR(h->module);
    Py_CLEAR(h->python_hook);
    Py_CLEAR(h->grad_hook);
    return 0;
}

static void hook_dealloc(Hook *h) {
    PyObject_GC_UnTrack(h);
    hook_clear(h);
    PyObject_GC_Del(h);
}

static PyObject *hook_tp_call(Hook *h, PyObject *args, PyObject *kw) {
    if (!h->state) { PyErr_SetString(PyExc_RuntimeError, "the hook was cleared"); return NULL; }
    return PyVectorcall_Call((PyObject *)h, args, kw);
}

/* copy.copy / copy.deepcopy: the same hook, as for a Python function (a model copied mid-run keeps working). */
static PyObject *hook_copy(PyObject *h, PyObject *Py_UNUSED(unused)) { return Py_NewRef(h); }

static PyMethodDef hook_methods[] = {
    {"__copy__", hook_copy, METH_NOARGS, NULL},
    {"__deepcopy__", hook_copy, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject HookType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "_normscope_hooks.Hook",
    .tp_doc = "one layer's forward or gradient hook (made by forward_hook / grad_hook)",
    .tp_basicsize = sizeof(Hook),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_vectorcall_offset = offsetof(Hook, vectorcall),
    .tp_call = (ternaryfunc)hook_tp_call,
    .tp_methods = hook_methods,
    .tp_traverse = (traverseproc)hook_traverse,
    .tp_clear = (inquiry)hook_clear,
    .tp_dealloc = (destructor)hook_dealloc,
};

static PyObject *new_hook(PyObject *state, Py_ssize_t layer, vectorcallfunc call, PyObject *module, PyObject *python_hook, PyObject *grad_hook) {
    if (check_state(state, layer) < 0) return NULL;
    Hook *h = PyObject_GC_New(Hook, &HookType);
    if (!h) return NULL;
    h->vectorcall = call;
    h->state = (State *)Py_NewRef(state);
    h->layer = layer;
    h->layer_obj = PyLong_FromSsize_t(layer);
    h->module = module ? Py_NewRef(module) : NULL;
    h->python_hook = python_hook ? Py_NewRef(python_hook) : NULL;
    h->grad_hook = grad_hook ? Py_NewRef(grad_hook) : NULL;
    PyObject_GC_Track(h);
    if (!h->layer_obj) { Py_DECREF(h); return NULL; }
    return (PyObject *)h;
}

static PyObject *forward_hook(PyObject *Py_UNUSED(unused), PyObject *args) {
    PyObject *state, *module, *python_hook, *grad_hook;
    Py_ssize_t layer;
    if (!PyArg_ParseTuple(args, "OnOOO", &state, &layer, &module, &python_hook, &grad_hook)) return NULL;
    return new_hook(state, layer, (vectorcallfunc)forward_call, module, python_hook, grad_hook);
}

static PyObject *grad_hook(PyObject *Py_UNUSED(unused), PyObject *args) {
    PyObject *state;
    Py_ssize_t layer;
    if (!PyArg_ParseTuple(args, "On", &state, &layer)) return NULL;
    return new_hook(state, layer, (vectorcallfunc)grad_call, NULL, NULL, NULL);
}

static PyMethodDef hooks_functions[] = {
    {"forward_hook", forward_hook, METH_VARARGS, "forward_hook(state, layer, module, python_hook, grad_hook): a forward hook measuring one layer's module"},
    {"grad_hook", grad_hook, METH_VARARGS, "grad_hook(state, layer): a tensor hook taking the norm of the gradient into one layer's output"},
    {"norms", param_norms, METH_VARARGS, "norms(tensors, out, base=None, copy=None, ncopy=0) -> bool: 2-norms at address out (ns_many)"},
    {"moments", param_moments, METH_VARARGS, "moments(t, out) -> bool: mean, variance, min, max of a parameter at address out"},
    {"finish", param_finish, METH_VARARGS, "finish(values, plan, order, out) -> list: every layer's statistics (ns_finish)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef hooks_module = {PyModuleDef_HEAD_INIT, "_normscope_hooks", "NormScope's measuring hooks in C (hooks.c)", -1,
                                         hooks_functions, NULL, NULL, NULL, NULL};

#define INTERN(var, text) if (!(var = PyUnicode_InternFromString(text))) return NULL;

PyMODINIT_FUNC PyInit__normscope_hooks(void) {
    INTERN(s_sampling, "sampling") INTERN(s_shape, "shape") INTERN(s_dtype, "dtype") INTERN(s_layout, "layout")
    INTERN(s_is_cpu, "is_cpu") INTERN(s_is_contiguous, "is_contiguous") INTERN(s_data_ptr, "data_ptr") INTERN(s_version, "_version")
    INTERN(s_requires_grad, "requires_grad") INTERN(s_register_hook, "register_hook") INTERN(s_used, "used")
    INTERN(s_capacity, "capacity") INTERN(s_base, "base") INTERN(s_training, "training")
    INTERN(s_running_mean, "running_mean") INTERN(s_running_var, "running_var") INTERN(s_moments, "_moments")
    INTERN(s_dead, "_dead") INTERN(s_sat_slot, "_sat_slot") INTERN(s_measure_input, "measure_input") INTERN(s_bn_gap, "_bn_gap")
    INTERN(s_grad_norm, "_grad_norm") INTERN(s_backward_hooks, "_backward_hooks") INTERN(s_grad_fn, "grad_fn")
    INTERN(s_register_hook_dict, "_register_hook_dict")
    PyObject *collections = PyImport_ImportModule("collections");
    if (!collections) return NULL;
    OrderedDict = PyObject_GetAttrString(collections, "OrderedDict"); /* what register_hook makes: its handles take weak references */
    Py_DECREF(collections);
    if (!OrderedDict) return NULL;
    PyObject *torch = PyImport_ImportModule("torch");
    if (!torch) return NULL;
    TensorType = PyObject_GetAttrString(torch, "Tensor");
    Float32 = PyObject_GetAttrString(torch, "float32");
    Strided = PyObject_GetAttrString(torch, "strided");
    IsGradEnabled = PyObject_GetAttrString(torch, "is_grad_enabled"); /* False in no_grad and inference mode */
    if (!IsGradEnabled) PyErr_Clear();
    PyObject *C = PyObject_GetAttrString(torch, "_C");
    HasTorchFunction = C ? PyObject_GetAttrString(C, "_has_torch_function_unary") : NULL; /* torch 1.8+ */
    if (!HasTorchFunction) PyErr_Clear();
    ModeStackLen = C ? PyObject_GetAttrString(C, "_len_torch_function_stack") : NULL; /* torch 1.13+ */
    ModeStackAt = ModeStackLen ? PyObject_GetAttrString(C, "_get_function_stack_at") : NULL;
    Py_XDECREF(C);
    PyObject *overrides = ModeStackAt ? PyImport_ImportModule("torch.overrides") : NULL;
    ModePop = overrides ? PyObject_GetAttrString(overrides, "_pop_mode") : NULL;
    ModePush = ModePop ? PyObject_GetAttrString(overrides, "_push_mode") : NULL;
    Py_XDECREF(overrides);
    if (!ModePush) { /* no mode stack: the Meter measures no functional calls, nothing to pause */
        PyErr_Clear();
        Py_CLEAR(ModeStackLen);
        Py_CLEAR(ModeStackAt);
        Py_CLEAR(ModePop);
    }
    Py_DECREF(torch);
    if (!TensorType || !Float32 || !Strided) return NULL;
    if (PyType_Ready(&StateType) < 0 || PyType_Ready(&HookType) < 0 || PyType_Ready(&MomentsType) < 0) return NULL;
    PyObject *m = PyModule_Create(&hooks_module);
    if (!m) return NULL;
    Py_INCREF(&StateType);
    Py_INCREF(&MomentsType);
    if (PyModule_AddObject(m, "State", (PyObject *)&StateType) < 0 || PyModule_AddObject(m, "Moments", (PyObject *)&MomentsType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
