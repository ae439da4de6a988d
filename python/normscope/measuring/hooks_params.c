/* The per-step calls of param_stats.py and Meter.finish in C (part of the hooks extension): one call each instead of
   Python loops over tensors plus ctypes arrays. After backward the caches are cold, so every Python step there
   costs several times what it costs warm. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "measuring.h"

/* norms(tensors, out, base=None, copy=None, ncopy=0) -> bool: ns_many on a list of tensors (2-norms at address
   `out`; of each minus its slice of `base`; the first `ncopy` copied into `copy`). False, having written nothing,
   when a tensor is not usable by the fused pass (or not there, as a missing gradient) or the flat ones do not fit. */
PyObject *param_norms(PyObject *Py_UNUSED(module), PyObject *args) {
    PyObject *tensors, *base = Py_None, *copy = Py_None;
    long long out;
    Py_ssize_t ncopy = 0;
    if (!PyArg_ParseTuple(args, "O!L|OOn", &PyList_Type, &tensors, &out, &base, &copy, &ncopy)) return NULL;
    Py_ssize_t n = PyList_GET_SIZE(tensors);
    if (ncopy < 0 || ncopy > n) return PyErr_Format(PyExc_ValueError, "ncopy %zd out of range", ncopy);
    int64_t *ptrs = PyMem_Malloc(sizeof(int64_t) * (size_t)(2 * n + 1)), *lens = ptrs + n, total = 0, copied = 0;
    if (!ptrs) return PyErr_NoMemory();
    int ok = 1;
    for (Py_ssize_t k = 0; ok && k < n; k++) {
        PyObject *t = PyList_GET_ITEM(tensors, k);
        Info ti;
        if (!PyObject_TypeCheck(t, (PyTypeObject *)TensorType)) { ok = 0; break; }
        if (info(t, &ti) < 0) { PyMem_Free(ptrs); return NULL; }
        ok = ti.usable;
        ptrs[k] = ti.ptr;
        lens[k] = ti.numel;
        total += ti.numel;
        if (k < ncopy) copied += ti.numel;
        info_clear(&ti);
    }
    const float *flat_base = NULL;
    float *flat_copy = NULL;
    PyObject *flats[2] = {base, copy};
    for (int f = 0; ok && f < 2; f++) {
        if (flats[f] == Py_None) continue;
        Info fi;
        if (!PyObject_TypeCheck(flats[f], (PyTypeObject *)TensorType)) { ok = 0; break; }
        if (info(flats[f], &fi) < 0) { PyMem_Free(ptrs); return NULL; }
        ok = fi.usable && fi.numel >= (f == 0 ? total : copied);
        if (f == 0) flat_base = (const float *)(intptr_t)fi.ptr;
        else flat_copy = (float *)(intptr_t)fi.ptr;
        info_clear(&fi);
    }
    if (ok) ns_many(ptrs, lens, n, flat_base, flat_copy, ncopy, (double *)(intptr_t)out);
    PyMem_Free(ptrs);
    return PyBool_FromLong(ok);
}

/* moments(t, out) -> bool: ns_param (mean, variance, min, max of a γ or β) at address `out`; False when `t` is not
   usable by the fused pass. */
PyObject *param_moments(PyObject *Py_UNUSED(module), PyObject *args) {
    PyObject *t;
    long long out;
    if (!PyArg_ParseTuple(args, "OL", &t, &out)) return NULL;
    if (!PyObject_TypeCheck(t, (PyTypeObject *)TensorType)) Py_RETURN_FALSE;
    Info ti;
    if (info(t, &ti) < 0) return NULL;
    int ok = ti.usable && ti.numel > 0;
    if (ok) ns_param((const float *)(intptr_t)ti.ptr, ti.numel, (double *)(intptr_t)out);
    info_clear(&ti);
    return PyBool_FromLong(ok);
}

/* finish(values, plan, order, out) -> list: ns_finish over the step's slots at address `values` into the
   NSTATS x len(order) doubles at address `out`, returned as one list of floats. */
PyObject *param_finish(PyObject *Py_UNUSED(module), PyObject *args) {
    long long values, out;
    PyObject *plan, *order;
    if (!PyArg_ParseTuple(args, "LOO!L", &values, &plan, &PyList_Type, &order, &out)) return NULL;
    Py_buffer view;
    if (PyObject_GetBuffer(plan, &view, PyBUF_FORMAT) < 0) return NULL;
    Py_ssize_t layers = PyList_GET_SIZE(order), fields = view.len / 8;
    int64_t *rows = PyMem_Malloc(sizeof(int64_t) * (size_t)(layers + 1));
    PyObject *result = NULL;
    if (!rows) { PyErr_NoMemory(); goto done; }
    if (view.itemsize != 8 || strcmp(view.format, "q") != 0) { PyErr_SetString(PyExc_TypeError, "the plan must be an int64 array"); goto done; }
    for (Py_ssize_t l = 0; l < layers; l++) {
        rows[l] = PyLong_AsLongLong(PyList_GET_ITEM(order, l));
        if (rows[l] < 0 || (rows[l] + 1) * FIELDS > fields) {
            if (!PyErr_Occurred()) PyErr_SetString(PyExc_IndexError, "a layer outside the plan");
            goto done;
        }
    }
    double *at = (double *)(intptr_t)out;
    ns_finish((const double *)(intptr_t)values, view.buf, rows, layers, at);
    if (!(result = PyList_New(layers * NSTATS))) goto done;
    for (Py_ssize_t k = 0; k < layers * NSTATS; k++) {
        PyObject *v = PyFloat_FromDouble(at[k]);
        if (!v) { Py_CLEAR(result); goto done; }
        PyList_SET_ITEM(result, k, v);
    }
done:
    PyMem_Free(rows);
    PyBuffer_Release(&view);
    return result;
}
