/* NormScope's private C header: what fused_stats.c and the hooks extension's files (hooks*.c) share. native.py
   compiles fused_stats.c alone (a plain library for ctypes) or with every hooks*.c as separate translation units into
   the extension `_normscope_hooks`; each hooks*.c includes Python.h before this header, which then declares the
   Python part too. The statistics' layout is listed here once, as X-macros that make both the enums and the name
   lists the library exports (ns_stat_names, ns_plan_fields, ns_moment_names); native.py checks them against
   stats_math.py when it loads the library, and test/unit/stat-layout.test.ts stats_math.py against src/protocol. */
#ifndef NORMSCOPE_MEASURING_H
#define NORMSCOPE_MEASURING_H
#include <stdint.h>

/* Built with -fvisibility=hidden: only what ctypes and Python's import call is visible outside the library. */
#if defined(__GNUC__)
#define NS_EXPORT __attribute__((visibility("default")))
#else
#define NS_EXPORT
#endif

/* A layer's statistics, in STAT_NAMES order (src/protocol/run.ts, stats_math.py). */
#define NS_STATS(X)                                                                                                   \
    X(MEAN, "mean") X(VARIANCE, "variance") X(STD, "std") X(MIN, "min") X(MAX, "max") X(GAIN, "gain")                \
    X(ZERO, "zeroFraction") X(DEAD, "deadFraction") X(SATURATED, "saturatedFraction") X(NON_FINITE, "nonFinite")     \
    X(ACT_GRAD, "activationGradNorm") X(WEIGHT, "weightNorm") X(GRAD, "gradNorm") X(UPDATE, "updateNorm")            \
    X(UPDATE_RATIO, "updateRatio") X(GAMMA_MEAN, "gammaMean") X(GAMMA_STD, "gammaStd") X(GAMMA_MIN, "gammaMin")      \
    X(GAMMA_MAX, "gammaMax") X(BETA_MEAN, "betaMean") X(MEAN_GAP, "movingMeanGap") X(VAR_GAP, "movingVarGap")        \
    X(MOVING_UPDATES, "movingUpdates")
/* A layer's row of the step's plan: where its reductions sit (stats_math.FIELDS). */
#define NS_PLAN(X)                                                                                                    \
    X(P_OUT, "out") X(P_OUT_N, "out_n") X(P_IN, "inp") X(P_IN_N, "inp_n") X(P_GRAD, "grad") X(P_DEAD, "dead")        \
    X(P_DEAD_OF, "dead_of") X(P_SAT, "sat") X(P_W, "w") X(P_W_N, "w_n") X(P_G, "g") X(P_G_N, "g_n") X(P_U, "u")      \
    X(P_U_N, "u_n") X(P_GAMMA, "gamma") X(P_BETA, "beta") X(P_GAPS, "gaps")
/* A tensor's reductions as ns_stats writes them, from its Moments' base slot on (stats_math.REDUCTIONS). */
#define NS_MOMENTS(X)                                                                                                 \
    X(M_SUM, "sum") X(M_NORM, "norm") X(M_LO, "lo") X(M_HI, "hi") X(M_NON_ZERO, "non_zero") X(M_SAT, "sat_count")    \
    X(M_DEAD, "dead_count") X(M_BAD, "bad_count")

#define NS_ENUM(name, text) name,
enum { NS_STATS(NS_ENUM) NSTATS };
enum { NS_PLAN(NS_ENUM) FIELDS };
enum { NS_MOMENTS(NS_ENUM) STATS };
#undef NS_ENUM
enum { COLUMNS = 3 }; /* ns_columns: sums, sums of squares, maxima per column */

NS_EXPORT extern const char *const ns_stat_names[NSTATS + 1]; /* NULL-terminated */
NS_EXPORT extern const char *const ns_plan_fields[FIELDS + 1];
NS_EXPORT extern const char *const ns_moment_names[STATS + 1];

/* The fused pass (fused_stats.c). */
NS_EXPORT void ns_stats(const float *x, int64_t rows, int64_t len, int64_t channels, float center, float thr, double *out);
NS_EXPORT void ns_columns(const float *x, int64_t n, int64_t f, double *out);
NS_EXPORT void ns_param(const float *x, int64_t n, double *out);
NS_EXPORT void ns_norm(const float *x, int64_t n, double *out);
NS_EXPORT void ns_many(const int64_t *ptrs, const int64_t *lens, int64_t n, const float *base, float *copy, int64_t ncopy,
                       double *out);
NS_EXPORT void ns_bn_gap(const double *sums, int64_t c, double count, const float *rmean, const float *rvar, double eps,
                         double keep, double updates, double *out);
NS_EXPORT void ns_finish(const double *v, const int64_t *plan, const int64_t *order, int64_t layers, double *out);

#ifdef Py_PYTHON_H /* the hooks extension */
#if PY_VERSION_HEX < 0x03090000
#error "the compiled hooks need Python 3.9+ (vectorcall API); older ones use meter.py's Python hooks"
#endif
#if PY_VERSION_HEX < 0x030A0000
static inline PyObject *Py_NewRef(PyObject *o) { Py_INCREF(o); return o; }
#endif

/* Read at import (hooks_module.c). */
extern PyObject *TensorType, *Float32, *Strided, *IsGradEnabled, *HasTorchFunction, *OrderedDict;
/* torch's TorchFunctionMode stack (torch 1.13+; NULL before): the hooks take the Meter's mode off while they run */
extern PyObject *ModeStackLen, *ModeStackAt, *ModePop, *ModePush;
/* Interned attribute names. */
extern PyObject *s_sampling, *s_shape, *s_dtype, *s_layout, *s_is_cpu, *s_is_contiguous, *s_data_ptr, *s_version,
    *s_requires_grad, *s_register_hook, *s_used, *s_capacity, *s_base, *s_training, *s_running_mean, *s_running_var,
    *s_moments, *s_dead, *s_sat_slot, *s_measure_input, *s_bn_gap, *s_grad_norm, *s_backward_hooks, *s_grad_fn,
    *s_register_hook_dict;

/* What the hooks share with a Meter (hooks_module.c's State type). */
typedef struct {
    PyObject_HEAD
    PyObject *meter, *buffer, *seen, *grads_seen, *shapes, *feeds_bn, *sat; /* sat: per layer, a tuple or None */
    PyObject *fed_by; /* the Meter's fed_by: layer → the layer whose output is its input */
    PyObject *mode;   /* the Meter's TorchFunctionMode while it is on the stack (a sampled step), else None */
    PyObject *bytes;  /* the relu and bn flags' bytes objects */
    Py_buffer plan;   /* the Meter's int64 plan (array.array), the same object for its whole life */
    int has_plan;
    const char *relu, *bn;
    Py_ssize_t layers;
    PyObject *moving_state; /* moving_average.moving_state: a BatchNorm's (keep, updates, eps) */
} State;

/* What the hooks need of a tensor, read once. */
typedef struct { PyObject *shape; int64_t numel, ptr, version; int dims, f32, usable, contiguous; } Info;

/* stats_math.Moments as a C type (hooks_moments.c). */
typedef struct {
    PyObject_HEAD
    long long base, n, channels, chan, cols; /* chan, cols: -1 for None */
    char full;
    PyObject *ref, *shape, *layer, *sat, *row_sum, *row_norm;
} Moments;

/* One layer's forward hook (vectorcall: forward_call) or gradient hook (grad_call; module, python_hook, grad_hook
   NULL). module: the layer's module; a copy of it (copy.deepcopy keeps hooks) is not measured. */
typedef struct {
    PyObject_HEAD
    vectorcallfunc vectorcall;
    State *state;
    Py_ssize_t layer;
    PyObject *layer_obj, *module, *python_hook, *grad_hook; /* python_hook: meter.py's hook, for what is not done here */
} Hook;

extern PyTypeObject MomentsType;

/* hooks.c: tensors, the step's buffer and plan, a tensor's Moments. */
int64_t get_int(PyObject *o, PyObject *name);
int is_none_attr(PyObject *o, PyObject *name);
void info_clear(Info *t);
int info(PyObject *t, Info *ti);
int64_t dim_size(Info *ti, int d);
int64_t take(State *s, int64_t count);
double *address(State *s, int64_t slot);
int64_t *plan_row(State *s, Py_ssize_t layer);
PyObject *moments(State *s, PyObject *t, Info *ti, int full, PyObject *layer, PyObject *sat, int relu);
/* hooks_moments.c */
Moments *moments_make(long long base, long long n, PyObject *shape, PyObject *ref, PyObject *layer, int full,
                      long long channels, PyObject *sat);
Moments *as_moments(PyObject *o);
/* hooks_mode.c */
int pause_mode(State *s, PyObject **paused);
int resume_mode(PyObject *paused);
int grad_enabled(void);
/* hooks_layer.c */
PyObject *forward_call(Hook *h, PyObject *const *args, size_t nargsf, PyObject *kwnames);
PyObject *grad_call(Hook *h, PyObject *const *args, size_t nargsf, PyObject *kwnames);
/* hooks_params.c: module functions */
PyObject *param_norms(PyObject *module, PyObject *args);
PyObject *param_moments(PyObject *module, PyObject *args);
PyObject *param_finish(PyObject *module, PyObject *args);
#endif
#endif
