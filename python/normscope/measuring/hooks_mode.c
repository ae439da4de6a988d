/* The Meter's TorchFunctionMode off the stack while a hook runs (part of the hooks extension). During a sampled step's
   forward the Meter has a mode on torch's stack (functional.py: it sees F.relu and the like); under a mode every
   torch call and even reading a tensor's shape goes through Python, which would cost the hooks more than all their
   statistics. As meter.py's hooks do, the mode is popped when it is the top one and pushed back afterwards, through
   torch.overrides' own _pop_mode/_push_mode (they also switch torch's C++ mode off and on). */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "measuring.h"

/* *paused: the Meter's mode when this took it off (hand it to resume_mode), else NULL. -1 on a Python error. */
int pause_mode(State *s, PyObject **paused) {
    *paused = NULL;
    if (!s->mode || s->mode == Py_None || !ModeStackLen) return 0;
    PyObject *n = PyObject_CallNoArgs(ModeStackLen);
    if (!n) return -1;
    long long len = PyLong_AsLongLong(n);
    Py_DECREF(n);
    if (len <= 0) return PyErr_Occurred() ? -1 : 0;
    PyObject *top = PyObject_CallFunction(ModeStackAt, "L", len - 1);
    if (!top) return -1;
    int ours = top == s->mode;
    Py_DECREF(top);
    if (!ours) return 0; /* someone else's mode on top: leave the stack as it is */
    *paused = PyObject_CallNoArgs(ModePop);
    return *paused ? 0 : -1;
}

/* Pushes back what pause_mode took off (a pending exception is kept); -1 when pushing failed. */
int resume_mode(PyObject *paused) {
    if (!paused) return 0;
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyObject *r = PyObject_CallOneArg(ModePush, paused);
    Py_DECREF(paused);
    if (!r) {
        Py_XDECREF(type);
        Py_XDECREF(value);
        Py_XDECREF(tb);
        return -1;
    }
    Py_DECREF(r);
    PyErr_Restore(type, value, tb);
    return type ? -1 : 0;
}

/* Whether autograd records this forward: a no_grad or inference-mode forward (an evaluation loop) is no part of a
   training step and is not measured. 1, 0, or -1 on error. */
int grad_enabled(void) {
    if (!IsGradEnabled) return 1;
    PyObject *r = PyObject_CallNoArgs(IsGradEnabled);
    int on = r ? PyObject_IsTrue(r) : -1;
    Py_XDECREF(r);
    return on;
}
