/* The forward and gradient hooks of the hooks extension: Meter._forward's hook, _measure_output, measure_input and _grad_norm of
   meter.py for the common case, calling the Meter's Python methods for the rest. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>

#include "measuring.h"

static int sampling(State *s) {
    PyObject *v = PyObject_GetAttr(s->meter, s_sampling);
    int r = v ? PyObject_IsTrue(v) : -1;
    Py_XDECREF(v);
    return r;
}

/* A slot number returned by a Python method, or -1 with an error set. */
static int64_t slot_of(PyObject *r) {
    if (!r) return -1;
    int64_t v = PyLong_AsLongLong(r);
    Py_DECREF(r);
    return v;
}

/* Meter._bn_gap for a BatchNorm in training: in C when its input's channel sums are slots of the fused pass and the
   running statistics are usable, else the Python method. */
static int bn_gap(State *s, PyObject *module, Py_ssize_t layer, PyObject *layer_obj, PyObject *x, Info *xi, PyObject *xm) {
    int64_t c = dim_size(xi, 1), sums = -1, *p = plan_row(s, layer);
    Moments *xmm = as_moments(xm);
    if (!xmm) return -1;
    PyObject *mshape = Py_NewRef(xmm->shape);
    int64_t chan = xmm->chan, cols = xmm->cols, channels = xmm->channels;
    if (!PyTuple_Check(mshape)) { Py_DECREF(mshape); PyErr_SetString(PyExc_TypeError, "a Moments without a shape"); return -1; }
    int same2 = PyTuple_GET_SIZE(mshape) >= 2 && xi->dims >= 2, same;
    for (int d = 0; same2 && d < 2; d++) same2 = PyObject_RichCompareBool(PyTuple_GET_ITEM(mshape, d), PyTuple_GET_ITEM(xi->shape, d), Py_EQ) == 1;
    same = PyObject_RichCompareBool(mshape, xi->shape, Py_EQ) == 1;
    Py_DECREF(mshape);
    if (xi->dims >= 3 && chan >= 0 && same2 && channels == c) sums = chan;
    else if (xi->dims == 2 && cols >= 0 && same) sums = cols;
    PyObject *rm = PyObject_GetAttr(module, s_running_mean), *rv = rm ? PyObject_GetAttr(module, s_running_var) : NULL;
    Info mi = {0}, vi = {0};
    int ok = rv && Py_TYPE(rm) == (PyTypeObject *)TensorType && Py_TYPE(rv) == (PyTypeObject *)TensorType && sums >= 0 && info(rm, &mi) == 0 &&
             info(rv, &vi) == 0 && mi.usable && vi.usable;
    int64_t rmp = mi.ptr, rvp = vi.ptr;
    info_clear(&mi);
    info_clear(&vi);
    Py_XDECREF(rm);
    Py_XDECREF(rv);
    if (PyErr_Occurred()) return -1;
    if (!ok) {
        PyObject *r = PyObject_CallMethodObjArgs(s->meter, s_bn_gap, layer_obj, module, x, xm, NULL);
        Py_XDECREF(r);
        return r ? 0 : -1;
    }
    PyObject *state = PyObject_CallFunctionObjArgs(s->moving_state, module, NULL); /* (keep, updates, eps) */
    double keep = NAN, updates = NAN, eps = NAN;
    int parsed = state && PyArg_ParseTuple(state, "ddd", &keep, &updates, &eps);
    Py_XDECREF(state);
    if (!parsed) return -1;
    int64_t slot = take(s, 3);
    double *at = slot < 0 ? NULL : address(s, slot), *sum_at = at ? address(s, sums) : NULL;
    if (!sum_at) return -1;
    p[P_GAPS] = slot;
    ns_bn_gap(sum_at, c, (double)xi->numel / (double)c, (const float *)(intptr_t)rmp, (const float *)(intptr_t)rvp, eps, keep, updates, at);
    return 0;
}

/* Meter.measure_input: in C for a float32 tensor as the first input, else the Python method. */
static int measure_input(Hook *h, PyObject *module, PyObject *inputs) {
    State *s = h->state;
    PyObject *x = PyTuple_CheckExact(inputs) && PyTuple_GET_SIZE(inputs) ? PyTuple_GET_ITEM(inputs, 0) : NULL;
    Info xi;
    int f32 = 0;
    if (x && Py_TYPE(x) == (PyTypeObject *)TensorType) {
        if (info(x, &xi) < 0) return -1;
        if (!(f32 = xi.f32)) info_clear(&xi);
    }
    if (!f32) {
        PyObject *r = PyObject_CallMethodObjArgs(s->meter, s_measure_input, h->layer_obj, module, inputs, NULL);
        Py_XDECREF(r);
        return r ? 0 : -1;
    }
    int rc = 0;
    if (xi.numel) {
        int64_t *p = plan_row(s, h->layer);
        PyObject *xm = moments(s, x, &xi, 0, Py_None, Py_None, 0);
        Moments *xmm = xm ? as_moments(xm) : NULL;
        if (!xmm) rc = -1;
        else {
            p[P_IN] = xmm->base;
            p[P_IN_N] = xmm->n;
            /* the input is the unchanged output of a layer measured this step: that layer feeds this one */
            int own = xmm->layer == Py_None ? 1 : PyObject_RichCompareBool(xmm->layer, h->layer_obj, Py_EQ);
            if (own < 0 || (!own && !PyDict_SetDefault(s->fed_by, h->layer_obj, xmm->layer))) rc = -1;
            int train = 0, has_running = 0;
            if (s->bn[h->layer]) {
                PyObject *t = PyObject_GetAttr(module, s_training);
                train = t ? PyObject_IsTrue(t) : -1;
                Py_XDECREF(t);
                has_running = train == 1 ? !is_none_attr(module, s_running_mean) : 0;
            }
            if (rc < 0 || PyErr_Occurred() || (train == 1 && has_running == 1 && bn_gap(s, module, h->layer, h->layer_obj, x, &xi, xm) < 0)) rc = -1;
        }
        Py_XDECREF(xm);
    }
    info_clear(&xi);
    return rc;
}

/* Meter._measure_output (y: the module's float32 output). */
static int measure_output(Hook *h, PyObject *y, Info *yi) {
    State *s = h->state;
    int64_t *p = plan_row(s, h->layer);
    int relu = s->relu[h->layer] && yi->dims >= 2;
    PyObject *sat = PyList_GET_ITEM(s->sat, h->layer);
    PyObject *m = moments(s, y, yi, 1, h->layer_obj, sat, relu);
    Moments *mm = m ? as_moments(m) : NULL;
    if (!mm) {
        Py_XDECREF(m);
        return -1;
    }
    int64_t base = mm->base;
    p[P_OUT] = base;
    p[P_OUT_N] = mm->n;
    if (relu) {
        int64_t chan = mm->chan, cols = mm->cols;
        if (yi->dims >= 4 && chan >= 0) {
            p[P_DEAD] = base + M_DEAD;
            p[P_DEAD_OF] = mm->channels;
        } else if (yi->dims < 4 && cols >= 0) {
            int64_t f = dim_size(yi, -1);
            p[P_DEAD] = cols + COLUMNS * f;
            p[P_DEAD_OF] = f;
        } else if (!PyErr_Occurred()) {
            PyObject *r = PyObject_CallMethodObjArgs(s->meter, s_dead, y, m, NULL);
            if (r) {
                p[P_DEAD] = PyLong_AsLongLong(PyTuple_GET_ITEM(r, 0));
                p[P_DEAD_OF] = PyLong_AsLongLong(PyTuple_GET_ITEM(r, 1));
                Py_DECREF(r);
            }
        }
    } else if (sat != Py_None) {
        int same = PyObject_RichCompareBool(mm->sat, sat, Py_EQ);
        if (same == 1) p[P_SAT] = base + M_SAT;
        else if (same == 0) p[P_SAT] = slot_of(PyObject_CallMethodObjArgs(s->meter, s_sat_slot, y, sat, NULL));
    }
    Py_DECREF(m);
    return PyErr_Occurred() ? -1 : 0;
}

/* Tensor.register_hook's own steps without its Python frame and RemovableHandle (cold after each layer's kernels, they
   cost more than the rest of the hook): the tensor's hook dict, registered with its grad_fn when new, keyed by the
   hook object (no handle id is an object, so a user's later register_hook cannot collide). Anything unusual (a
   __torch_function__ override or mode, a leaf tensor): the public method. */
static int add_grad_hook(PyObject *y, PyObject *hook) {
    int overridden = 0;
    if (HasTorchFunction) {
        PyObject *r = PyObject_CallOneArg(HasTorchFunction, y);
        overridden = r ? PyObject_IsTrue(r) : -1;
        Py_XDECREF(r);
        if (overridden < 0) return -1;
    }
    PyObject *hooks = overridden ? NULL : PyObject_GetAttr(y, s_backward_hooks);
    if (!overridden && !hooks) return -1;
    if (hooks == Py_None) {
        PyObject *grad_fn = PyObject_GetAttr(y, s_grad_fn);
        if (!grad_fn) { Py_DECREF(hooks); return -1; }
        if (grad_fn != Py_None) {
            Py_SETREF(hooks, PyObject_CallNoArgs(OrderedDict));
            PyObject *r = hooks && PyObject_SetAttr(y, s_backward_hooks, hooks) == 0 ? PyObject_CallMethodOneArg(grad_fn, s_register_hook_dict, y) : NULL;
            if (!r) Py_CLEAR(hooks);
            Py_XDECREF(r);
        }
        Py_DECREF(grad_fn);
        if (!hooks) return -1;
    }
    if (overridden || hooks == Py_None) {
        Py_XDECREF(hooks);
        PyObject *handle = PyObject_CallMethodOneArg(y, s_register_hook, hook);
        Py_XDECREF(handle);
        return handle ? 0 : -1;
    }
    int rc = PyObject_SetItem(hooks, hook, hook);
    Py_DECREF(hooks);
    return rc;
}

PyObject *forward_call(Hook *h, PyObject *const *args, size_t nargsf, PyObject *kwnames) {
    if (PyVectorcall_NARGS(nargsf) != 3 || kwnames) return PyObject_Vectorcall(h->python_hook, args, nargsf, kwnames);
    PyObject *module = args[0], *inputs = args[1], *output = args[2];
    State *s = h->state;
    if (module != h->module) Py_RETURN_NONE;
    int on = sampling(s), known = on < 0 ? -1 : PyDict_Contains(s->shapes, h->layer_obj);
    if (known < 0) return NULL;
    if (!on && known) Py_RETURN_NONE;
    int recorded = grad_enabled();
    if (recorded <= 0) return recorded < 0 ? NULL : Py_NewRef(Py_None);
    if (!known || Py_TYPE(output) != (PyTypeObject *)TensorType) return PyObject_Vectorcall(h->python_hook, args, nargsf, NULL);
    PyObject *paused;
    if (pause_mode(s, &paused) < 0) return NULL;
    Info yi;
    if (info(output, &yi) < 0) {
        resume_mode(paused);
        return NULL;
    }
    if (!yi.f32) {
        info_clear(&yi);
        if (resume_mode(paused) < 0) return NULL;
        return PyObject_Vectorcall(h->python_hook, args, nargsf, NULL);
    }
    int rc = 0;
    if (yi.numel) {
        rc = measure_output(h, output, &yi);
        if (rc == 0) rc = measure_input(h, module, inputs);
        PyObject *grad = rc == 0 ? PyObject_GetAttr(output, s_requires_grad) : NULL;
        if (grad == Py_True) rc = add_grad_hook(output, h->grad_hook);
        else if (!grad) rc = -1;
        Py_XDECREF(grad);
    }
    info_clear(&yi);
    if (resume_mode(paused) < 0) rc = -1;
    return rc < 0 ? NULL : Py_NewRef(Py_None);
}

/* Meter._grad's hook and _grad_norm. */
PyObject *grad_call(Hook *h, PyObject *const *args, size_t nargsf, PyObject *kwnames) {
    if (PyVectorcall_NARGS(nargsf) != 1 || kwnames) {
        PyErr_SetString(PyExc_TypeError, "a gradient hook takes one tensor");
        return NULL;
    }
    State *s = h->state;
    PyObject *g = args[0];
    int on = sampling(s);
    if (on <= 0) return on < 0 ? NULL : Py_NewRef(Py_None);
    Info gi;
    if (Py_TYPE(g) != (PyTypeObject *)TensorType) {
        plan_row(s, h->layer)[P_GRAD] = slot_of(PyObject_CallMethodObjArgs(s->meter, s_grad_norm, g, NULL));
        return PyErr_Occurred() ? NULL : Py_NewRef(Py_None);
    }
    PyObject *paused;
    if (pause_mode(s, &paused) < 0) return NULL;
    if (info(g, &gi) < 0) {
        resume_mode(paused);
        return NULL;
    }
    int64_t slot = -1;
    if (!gi.usable) {
        slot = slot_of(PyObject_CallMethodObjArgs(s->meter, s_grad_norm, g, NULL));
    } else {
        PyObject *key = Py_BuildValue("(LLL)", (long long)gi.ptr, (long long)gi.numel, (long long)gi.version);
        PyObject *seen = key ? PyDict_GetItemWithError(s->grads_seen, key) : NULL, *alive = NULL;
        if (seen && PyTuple_Check(seen) && PyTuple_GET_SIZE(seen) == 2) alive = PyObject_CallNoArgs(PyTuple_GET_ITEM(seen, 1));
        if (alive && alive != Py_None) {
            slot = PyLong_AsLongLong(PyTuple_GET_ITEM(seen, 0));
        } else if (key && !PyErr_Occurred()) {
            slot = take(s, 1);
            double *at = slot < 0 ? NULL : address(s, slot);
            PyObject *ref = at ? PyWeakref_NewRef(g, NULL) : NULL, *entry = ref ? Py_BuildValue("(LN)", (long long)slot, ref) : NULL;
            if (entry) {
                ns_norm((const float *)(intptr_t)gi.ptr, gi.numel, at);
                if (PyDict_SetItem(s->grads_seen, key, entry) < 0) slot = -1;
                Py_DECREF(entry);
            }
        }
        Py_XDECREF(alive);
        Py_XDECREF(key);
    }
    info_clear(&gi);
    if (resume_mode(paused) < 0 || PyErr_Occurred()) return NULL;
    plan_row(s, h->layer)[P_GRAD] = slot;
    Py_RETURN_NONE;
}
