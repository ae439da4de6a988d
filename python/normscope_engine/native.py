"""The fused statistics pass: one C loop reads a contiguous float32 tensor once and returns its sum, sum of squares,
min, max, non-zero count, saturated count (|x − center| ≥ threshold) and, for (sample × channel) rows, per-channel
sums, sums of squares and maxima. torch has no single reduction giving these; its ops make about five passes.

The C source below is compiled on first use with the system compiler ($CC, else `cc`/`gcc` on PATH) into a per-user
cache folder, keyed by a hash of source, flags and compiler, and loaded with ctypes; nothing is built at install time
or downloaded. Without a compiler, when compiling or loading fails, or with NORMSCOPE_NO_NATIVE=1, `fused_pass()` is
None and measure.py uses torch ops (the same numbers). The loop is single-threaded; sums are float within blocks of
BLOCK elements and double across blocks (torch's own float reductions are about as exact)."""
import ctypes
import hashlib
import os
import shutil
import stat
import subprocess
import tempfile

import torch

SOURCE = r'''
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#define BLOCK 1024
#define SHORT_ROW 16
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define CLONES
#endif

typedef struct { double sum, sq; float lo, hi; int64_t nz, sat, bad; int nan; } acc_t;

/* One row (or a whole flat tensor), blockwise; `sat` is a constant at each call, so each variant is lean. The
   build flags allow reassociating the float sums, so the compiler keeps several partial sums in flight. */
static inline __attribute__((always_inline)) void row(const float *p, int64_t len, int sat, float center, float thr, acc_t *a) {
    float lo = a->lo, hi = a->hi;
    for (int64_t b = 0; b < len; b += BLOCK) {
        int64_t e = b + BLOCK < len ? b + BLOCK : len;
        float s = 0, q = 0;
        int32_t z = 0, t = 0;
        if (sat) {
#pragma omp simd reduction(+ : s, q, z, t) reduction(min : lo) reduction(max : hi)
            for (int64_t i = b; i < e; i++) {
                float v = p[i];
                s += v; q += v * v; z += v != 0.0f; t += fabsf(v - center) >= thr;
                lo = v < lo ? v : lo; hi = v > hi ? v : hi;
            }
        } else {
#pragma omp simd reduction(+ : s, q, z) reduction(min : lo) reduction(max : hi)
            for (int64_t i = b; i < e; i++) {
                float v = p[i];
                s += v; q += v * v; z += v != 0.0f;
                lo = v < lo ? v : lo; hi = v > hi ? v : hi;
            }
        }
        a->sum += s; a->sq += q; a->nz += z; a->sat += t;
    }
    a->lo = lo; a->hi = hi;
}

/* Rows too short for the vector loop (global pooling's N x C x 1 x 1): element by element. */
static void short_row(const float *p, int64_t len, float center, float thr, acc_t *a) {
    for (int64_t i = 0; i < len; i++) {
        float v = p[i];
        float square = v * v;  /* in float, as the vector loop: overflows where torch overflows */
        a->sum += v; a->sq += square; a->nz += v != 0.0f; a->sat += thr >= 0 && fabsf(v - center) >= thr;
        a->lo = v < a->lo ? v : a->lo; a->hi = v > a->hi ? v : a->hi;
    }
}

/* Only when a row's sums are not finite: count its NaN/Inf elements. A NaN makes min and max NaN (as torch's
   amin/amax; the comparisons above skip NaN). */
static void scan(const float *p, int64_t len, acc_t *a) {
    for (int64_t i = 0; i < len; i++) {
        if (!isfinite(p[i])) { a->bad++; if (isnan(p[i])) a->nan = 1; }
    }
    if (a->nan) { a->lo = NAN; a->hi = NAN; }
}

/* x: rows x len floats. out: sum, 2-norm, min, max, non-zero count, saturated count (|x - center| >= thr; thr < 0:
   none), dead channels (maximum <= 0), non-finite count; channels > 0 (row r is channel r % channels): then per
   channel the sums, sums of squares and maxima (3 x channels doubles). */
CLONES void ns_stats(const float *x, int64_t rows, int64_t len, int64_t channels, float center, float thr, double *out) {
    double *ch = out + 8;
    acc_t all = {0, 0, INFINITY, -INFINITY, 0, 0, 0, 0};
    for (int64_t c = 0; c < channels; c++) { ch[c] = 0; ch[channels + c] = 0; ch[2 * channels + c] = -INFINITY; }
    for (int64_t r = 0; r < rows; r++) {
        const float *p = x + r * len;
        acc_t a = {0, 0, INFINITY, -INFINITY, 0, 0, 0, 0};
        if (len < SHORT_ROW) short_row(p, len, center, thr, &a);
        else if (thr >= 0) row(p, len, 1, center, thr, &a);
        else row(p, len, 0, 0, 0, &a);
        if (!isfinite(a.sum) || !isfinite(a.sq)) scan(p, len, &a);
        all.sum += a.sum; all.sq += a.sq; all.nz += a.nz; all.sat += a.sat; all.bad += a.bad; all.nan |= a.nan;
        all.lo = a.lo < all.lo ? a.lo : all.lo; all.hi = a.hi > all.hi ? a.hi : all.hi;
        if (channels > 0) {
            int64_t c = r % channels;
            ch[c] += a.sum; ch[channels + c] += a.sq;
            if (a.nan || a.hi > ch[2 * channels + c]) ch[2 * channels + c] = a.hi;
        }
    }
    int64_t dead = 0;
    for (int64_t c = 0; c < channels; c++) dead += ch[2 * channels + c] <= 0;
    out[0] = all.sum; out[1] = sqrt(all.sq); out[2] = all.nan ? NAN : all.lo; out[3] = all.nan ? NAN : all.hi;
    out[4] = (double)all.nz; out[5] = (double)all.sat; out[6] = (double)dead; out[7] = (double)all.bad;
}

/* x: n rows x f columns. out: per column the sums, sums of squares and maxima (NaN when the column holds one), then
   the dead count (columns whose maximum <= 0). A Linear layer's features are its columns. */
CLONES void ns_columns(const float *x, int64_t n, int64_t f, double *out) {
    double *s = out, *q = out + f;
    float *m = malloc((size_t)f * sizeof(float));
    if (!m) { out[3 * f] = NAN; return; }
    for (int64_t j = 0; j < f; j++) { s[j] = 0; q[j] = 0; m[j] = -INFINITY; }
    for (int64_t r = 0; r < n; r++) {
        const float *p = x + r * f;
#pragma omp simd
        for (int64_t j = 0; j < f; j++) {
            float v = p[j];
            float c = m[j];
            s[j] += v; q[j] += (double)v * v; m[j] = c != c ? c : (v > c || v != v) ? v : c;
        }
    }
    int64_t dead = 0;
    for (int64_t j = 0; j < f; j++) { out[2 * f + j] = m[j]; dead += m[j] <= 0; }
    out[3 * f] = (double)dead;
    free(m);
}

static double sumsq(const float *x, int64_t len) {
    double total = 0;
    for (int64_t b = 0; b < len; b += BLOCK) {
        int64_t e = b + BLOCK < len ? b + BLOCK : len;
        float q = 0;
#pragma omp simd reduction(+ : q)
        for (int64_t i = b; i < e; i++) q += x[i] * x[i];
        total += q;
    }
    return total;
}

/* A parameter's (γ's) mean, variance, min and max in double, variance about the mean: γ near 1 with a small
   spread would lose its digits in E[x²] − mean². */
CLONES void ns_param(const float *x, int64_t n, double *out) {
    double s = 0, v = 0;
    float lo = INFINITY, hi = -INFINITY;
    for (int64_t i = 0; i < n; i++) { s += x[i]; lo = x[i] < lo ? x[i] : lo; hi = x[i] > hi ? x[i] : hi; }
    double mean = s / n;
    for (int64_t i = 0; i < n; i++) v += (x[i] - mean) * (x[i] - mean);
    out[0] = mean; out[1] = v / n; out[2] = isnan(s) ? NAN : lo; out[3] = isnan(s) ? NAN : hi;
}

/* A BatchNorm's moving-statistics gaps from its input's per-channel sums and sums of squares (count values each):
   out[0] = mean over channels of |running mean - batch mean| / sqrt(batch var + eps), out[1] = of
   |running var - batch var| / (batch var + eps). */
CLONES void ns_bn_gap(const double *sums, int64_t c, double count, const float *rmean, const float *rvar, double eps, double *out) {
    double mean_gap = 0, var_gap = 0;
    for (int64_t k = 0; k < c; k++) {
        double mean = sums[k] / count, var = sums[c + k] / count - mean * mean;
        var = var > 0 ? var : 0;
        mean_gap += fabs(rmean[k] - mean) / sqrt(var + eps);
        var_gap += fabs(rvar[k] - var) / (var + eps);
    }
    out[0] = mean_gap / c; out[1] = var_gap / c;
}

/* The per-layer statistics from the step's slots v, as stats_math.layer_values computes them (the same IEEE
   operations, so the same numbers): plan holds FIELDS int64 per layer (stats_math.py), order the layers to write,
   out NSTATS doubles per layer in STAT_NAMES order, NaN where a statistic does not apply. */
enum { P_OUT, P_OUT_N, P_IN, P_IN_N, P_GRAD, P_DEAD, P_DEAD_OF, P_SAT, P_W, P_W_N, P_G, P_G_N, P_U, P_U_N, P_GAMMA, P_BETA, P_GAPS, FIELDS };
enum { MEAN, VARIANCE, STD, MIN, MAX, GAIN, ZERO, DEAD, SATURATED, NON_FINITE, ACT_GRAD, WEIGHT, GRAD, UPDATE, UPDATE_RATIO,
       GAMMA_MEAN, GAMMA_STD, GAMMA_MIN, GAMMA_MAX, BETA_MEAN, MEAN_GAP, VAR_GAP, NSTATS };

static double dv(double a, double b) {
    if (isnan(a) || isnan(b)) return NAN;
    if (b == 0) return a == 0 ? NAN : copysign(INFINITY, a);
    return a / b;
}
static double root(double x) { return x >= 0 ? sqrt(x) : NAN; }
static double variance(const double *v, int64_t base, int64_t n, double *mean) {
    *mean = dv(v[base], (double)n);
    double norm = v[base + 1], var = dv(norm * norm, (double)n) - *mean * *mean;
    return var >= 0 || isnan(var) ? var : 0;
}
static double norm_of(const double *v, int64_t first, int64_t count) {
    double s = 0;
    for (int64_t k = first; k < first + count; k++) s += v[k] * v[k];
    return root(s);
}

void ns_finish(const double *v, const int64_t *plan, const int64_t *order, int64_t layers, double *out) {
    for (int64_t l = 0; l < layers; l++) {
        const int64_t *p = plan + order[l] * FIELDS;
        double *r = out + l * NSTATS, mean, imean;
        for (int k = 0; k < NSTATS; k++) r[k] = NAN;
        int64_t b = p[P_OUT], n = p[P_OUT_N];
        if (b >= 0) {
            double var = variance(v, b, n, &mean), std = root(var);
            r[MEAN] = mean; r[VARIANCE] = var; r[STD] = std; r[MIN] = v[b + 2]; r[MAX] = v[b + 3]; r[NON_FINITE] = v[b + 7];
            r[ZERO] = isnan(v[b + 1]) ? NAN : 1 - dv(v[b + 4], (double)n);
            if (p[P_IN] >= 0) r[GAIN] = dv(std, root(variance(v, p[P_IN], p[P_IN_N], &imean)));
            if (p[P_DEAD] >= 0) r[DEAD] = v[p[P_DEAD]] / (double)p[P_DEAD_OF];
            if (p[P_SAT] >= 0) r[SATURATED] = v[p[P_SAT]] / (double)n;
        }
        if (p[P_GRAD] >= 0) r[ACT_GRAD] = v[p[P_GRAD]];
        if (p[P_W_N] > 0) {
            r[WEIGHT] = norm_of(v, p[P_W], p[P_W_N]);
            if (p[P_G_N] > 0) r[GRAD] = norm_of(v, p[P_G], p[P_G_N]);
            if (p[P_U_N] > 0) { r[UPDATE] = norm_of(v, p[P_U], p[P_U_N]); r[UPDATE_RATIO] = dv(r[UPDATE], r[WEIGHT]); }
        }
        int64_t g = p[P_GAMMA];
        if (g >= 0) {
            r[GAMMA_MEAN] = v[g]; r[GAMMA_STD] = root(v[g + 1]); r[GAMMA_MIN] = v[g + 2]; r[GAMMA_MAX] = v[g + 3];
            if (p[P_BETA] >= 0) r[BETA_MEAN] = v[p[P_BETA]];
        }
        if (p[P_GAPS] >= 0) { r[MEAN_GAP] = v[p[P_GAPS]]; r[VAR_GAP] = v[p[P_GAPS] + 1]; }
    }
}

/* The 2-norm of x (gradients). */
CLONES void ns_norm(const float *x, int64_t n, double *out) { out[0] = sqrt(sumsq(x, n)); }

/* Parameters: n tensors of float32 (addresses ptrs, lens elements). out[k] = 2-norm of tensor k, or with base, of
   tensor k minus its slice of base (the tensors one after the other); with copy, the first ncopy are copied there. */
CLONES void ns_many(const int64_t *ptrs, const int64_t *lens, int64_t n, const float *base, float *copy, int64_t ncopy, double *out) {
    int64_t off = 0;
    for (int64_t k = 0; k < n; k++) {
        const float *x = (const float *)(intptr_t)ptrs[k];
        int64_t len = lens[k];
        double total = 0;
        if (base) {
            const float *y = base + off;
            for (int64_t b = 0; b < len; b += BLOCK) {
                int64_t e = b + BLOCK < len ? b + BLOCK : len;
                float q = 0;
#pragma omp simd reduction(+ : q)
                for (int64_t i = b; i < e; i++) { float d = x[i] - y[i]; q += d * d; }
                total += q;
            }
        } else {
            total = sumsq(x, len);
        }
        if (copy && k < ncopy) memcpy(copy + off, x, (size_t)len * sizeof(float));
        out[k] = sqrt(total);
        off += len;
    }
}
'''
# Reassociating float sums (not -ffast-math: NaN and Inf must keep their meaning) lets several partial sums run at
# once, about twice as fast; a compiler that refuses a flag gets the plain set.
FLAG_SETS = (['-O3', '-fopenmp-simd', '-fassociative-math', '-fno-signed-zeros', '-fno-trapping-math', '-funroll-loops',
              '-fvariable-expansion-in-unroller', '-shared', '-fPIC'], ['-O3', '-shared', '-fPIC'])
_lib = []  # [the loaded library or None] once tried


def compiler():
    cc = os.environ.get('CC')
    return shutil.which(cc) if cc else shutil.which('cc') or shutil.which('gcc')


def _private_dir(path):
    """`path`, created 0700, when it is a directory of ours that no one else can write into; else None."""
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
        st = os.stat(path)
    except OSError:
        return None
    return path if stat.S_ISDIR(st.st_mode) and st.st_uid == os.getuid() and not st.st_mode & 0o022 else None


def _cache_dir():
    base = os.environ.get('XDG_CACHE_HOME') or os.path.join(os.path.expanduser('~'), '.cache')
    return _private_dir(os.path.join(base, 'normscope')) or _private_dir(os.path.join(tempfile.gettempdir(), f'normscope-{os.getuid()}'))


def _compile(cc, flags, src, out):
    return subprocess.run([cc, *flags, '-o', out, src, '-lm'], stdin=subprocess.DEVNULL, capture_output=True, timeout=120).returncode == 0


def _build(cc, folder):
    """The shared library's path in `folder`, compiling it when it is not there yet (atomically: concurrent runs)."""
    key = hashlib.sha256('\0'.join([SOURCE, *(f for flags in FLAG_SETS for f in flags), cc]).encode()).hexdigest()[:16]
    lib = os.path.join(folder, f'stats-{key}.so')
    if os.path.exists(lib):
        return lib
    fd, src = tempfile.mkstemp(suffix='.c', dir=folder)
    tmp = src[:-2] + '.so'
    try:
        with os.fdopen(fd, 'w') as f:
            f.write(SOURCE)
        if not any(_compile(cc, flags, src, tmp) for flags in FLAG_SETS):
            return None
        os.replace(tmp, lib)
        return lib
    finally:
        for leftover in (src, tmp):
            if os.path.exists(leftover):
                os.remove(leftover)


def _load():
    if os.environ.get('NORMSCOPE_NO_NATIVE') == '1':
        return None
    try:  # whatever goes wrong here (no compiler, no writable folder, no getuid on Windows, a bad build): torch ops
        cc, folder = compiler(), _cache_dir()
        path = _build(cc, folder) if cc and folder else None
        if path is None:
            return None
        lib = ctypes.CDLL(path)
    except Exception:
        return None
    i64, f32, ptr = ctypes.c_int64, ctypes.c_float, ctypes.c_void_p
    for name, args in (('ns_stats', [ptr, i64, i64, i64, f32, f32, ptr]), ('ns_columns', [ptr, i64, i64, ptr]), ('ns_norm', [ptr, i64, ptr]), ('ns_param', [ptr, i64, ptr]),
                       ('ns_many', [ptr, ptr, i64, ptr, ptr, i64, ptr]),
                       ('ns_bn_gap', [ptr, i64, ctypes.c_double, ptr, ptr, ctypes.c_double, ptr]), ('ns_finish', [ptr, ptr, ptr, i64, ptr])):
        fn = getattr(lib, name)
        fn.argtypes, fn.restype = args, None
    return lib


def library():
    """The loaded library, or None (fall back to torch ops); compiled or found at the first call of the process."""
    if not _lib:
        _lib.append(_load())
    return _lib[0]


def fused_pass():
    """A FusedPass, or None (fall back to torch ops)."""
    lib = library()
    return FusedPass(lib) if lib is not None else None


def note():
    return 'statistics: fused C pass' if library() is not None else 'statistics: torch ops (no C compiler, its build failed, or NORMSCOPE_NO_NATIVE=1)'


def usable(t, f32=torch.float32, strided=torch.strided):
    """The fused pass reads `t`'s memory directly: only a dense contiguous float32 CPU tensor (dtypes and layouts are singletons)."""
    return t.dtype is f32 and t.is_cpu and t.layout is strided and t.is_contiguous()


STATS = 8  # doubles ns_stats writes (stats_math.SUM … BAD_COUNT), then 3 x channels more when it takes channels
PARAM = 4  # ns_param: mean, variance, min, max
COLUMNS = 3  # ns_columns: 3 x columns doubles, then the dead count


class FusedPass:
    """The library's calls on `usable` tensors. Each writes float64 results at an address (a slot of the step's
    buffer, measure.py), so nothing is converted to Python objects until the step is read back."""

    def __init__(self, lib):
        self._stats, self._columns, self._norm, self._many, self._param = lib.ns_stats, lib.ns_columns, lib.ns_norm, lib.ns_many, lib.ns_param
        self._bn_gap, self._finish = lib.ns_bn_gap, lib.ns_finish

    def stats(self, t, channels, center, threshold, out):
        """STATS doubles of `t` at `out` (see SOURCE), and with `channels` (dim 1 of a tensor of 3+ dims) per-channel
        sums, sums of squares and maxima after them. threshold < 0: no saturation count."""
        n = t.numel()
        rows = t.shape[0] * channels if channels else 1
        self._stats(t.data_ptr(), rows, n // rows, channels, center, threshold, out)

    def columns(self, t, out):
        """Per-column sums, sums of squares and maxima of a 2-D `t`, then its dead-column count, at `out`."""
        self._columns(t.data_ptr(), t.shape[0], t.shape[1], out)

    def param(self, t, out):
        """PARAM doubles at `out`: mean, variance (about the mean, in double), min, max."""
        self._param(t.data_ptr(), t.numel(), out)

    def norm(self, t, out):
        self._norm(t.data_ptr(), t.numel(), out)

    def many(self, ptrs, lens, n, out, base=None, copy=None, ncopy=0):
        """2-norms of `n` float32 tensors (ctypes int64 arrays of addresses and sizes) at `out` in one call, of each
        minus its slice of the flat float32 `base` when given, copying the first `ncopy` one after the other into
        `copy` when given."""
        self._many(ptrs, lens, n, None if base is None else base.data_ptr(), None if copy is None else copy.data_ptr(), ncopy, out)

    def finish(self, vals, plan, order, out):
        """Every layer's statistics (stats_math.layer_values in C) at `out`: `vals` the slots' address, `plan` and
        `order` int64 lists."""
        self._finish(vals, (ctypes.c_int64 * len(plan))(*plan), (ctypes.c_int64 * len(order))(*order), len(order), out)

    def bn_gap(self, sums, channels, count, module, eps, out):
        """A BatchNorm's two moving-statistics gaps at `out` from its input's per-channel sums at address `sums`."""
        self._bn_gap(sums, channels, count, module.running_mean.data_ptr(), module.running_var.data_ptr(), eps, out)
