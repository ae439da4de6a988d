/* NormScope's fused statistics pass, compiled on first use by native.py (which documents why and how) and called
   through ctypes. Every function writes float64 results at an address in the step's buffer (step_buffer.py). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "measuring.h"

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

/* Per-channel statistics when rows are short (late conv maps: 7x7, 4x4): per tile of channels, each sample's block
   is added element by element into accumulators that stay in L1, so no row pays its own horizontal reductions
   (3-15x faster than row by row there; longer rows are faster row by row). Sums are float over the samples and
   double over a channel's positions; a channel whose sums are not finite is scanned as in the row path. */
#define SHORT_CHANNEL 128
#define TILE 1024
static inline __attribute__((always_inline)) void channel_tiles(const float *x, int64_t samples, int64_t channels, int64_t len, float center,
                                                                float thr, acc_t *all, double *ch) {
    float acc[3 * (TILE + 16)]; /* padded apart: no 4K aliasing between the three */
    float *as = acc, *aq = acc + TILE + 16, *am = aq + TILE + 16, lo = all->lo;
    int64_t per = TILE / len, plane = channels * len;
    for (int64_t c0 = 0; c0 < channels; c0 += per) {
        int64_t cn = c0 + per < channels ? per : channels - c0, e = cn * len;
        for (int64_t n = 0; n < samples; n++) {
            const float *p = x + n * plane + c0 * len;
            int32_t z = 0, t = 0;
            if (n == 0) {
#pragma omp simd reduction(+ : z, t) reduction(min : lo)
                for (int64_t j = 0; j < e; j++) {
                    float v = p[j];
                    as[j] = v; aq[j] = v * v; am[j] = v; z += v != 0.0f; t += thr >= 0 && fabsf(v - center) >= thr; lo = v < lo ? v : lo;
                }
            } else {
#pragma omp simd reduction(+ : z, t) reduction(min : lo)
                for (int64_t j = 0; j < e; j++) {
                    float v = p[j];
                    as[j] += v; aq[j] += v * v; am[j] = v > am[j] ? v : am[j]; z += v != 0.0f; t += thr >= 0 && fabsf(v - center) >= thr;
                    lo = v < lo ? v : lo;
                }
            }
            all->nz += z; all->sat += t;
        }
        for (int64_t c = 0; c < cn; c++) {
            double s = 0, q = 0;
            float m = -INFINITY;
            for (int64_t i = c * len; i < (c + 1) * len; i++) { s += as[i]; q += aq[i]; m = am[i] > m ? am[i] : m; }
            int64_t k = c0 + c;
            if (!isfinite(s) || !isfinite(q)) {
                acc_t bad = {0, 0, 0, 0, 0, 0, 0, 0};
                for (int64_t n = 0; n < samples; n++) scan(x + n * plane + k * len, len, &bad);
                all->bad += bad.bad; all->nan |= bad.nan;
                if (bad.nan) m = NAN;
            }
            ch[k] = s; ch[channels + k] = q; ch[2 * channels + k] = m;
            all->sum += s; all->sq += q;
            all->hi = m > all->hi ? m : all->hi;
        }
    }
    all->lo = lo;
}

/* x: rows x len floats. out: sum, 2-norm, min, max, non-zero count, saturated count (|x - center| >= thr; thr < 0:
   none), dead channels (maximum <= 0), non-finite count; channels > 0 (row r is channel r % channels): then per
   channel the sums, sums of squares and maxima (3 x channels doubles). */
CLONES void ns_stats(const float *x, int64_t rows, int64_t len, int64_t channels, float center, float thr, double *out) {
    double *ch = out + STATS;
    acc_t all = {0, 0, INFINITY, -INFINITY, 0, 0, 0, 0};
    for (int64_t c = 0; c < channels; c++) { ch[c] = 0; ch[channels + c] = 0; ch[2 * channels + c] = -INFINITY; }
    if (channels > 0 && len < SHORT_CHANNEL) {
        channel_tiles(x, rows / channels, channels, len, center, thr, &all, ch);
        rows = 0; /* done */
    }
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
    out[M_SUM] = all.sum; out[M_NORM] = sqrt(all.sq); out[M_LO] = all.nan ? NAN : all.lo; out[M_HI] = all.nan ? NAN : all.hi;
    out[M_NON_ZERO] = (double)all.nz; out[M_SAT] = (double)all.sat; out[M_DEAD] = (double)dead; out[M_BAD] = (double)all.bad;
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
   |running var - batch var| / (batch var + eps), out[2] = updates. The running statistics are first corrected for
   their warm-up (torch_path.moving_state): keep is the weight their initial values 0 and 1 still have. */
CLONES void ns_bn_gap(const double *sums, int64_t c, double count, const float *rmean, const float *rvar, double eps, double keep,
                      double updates, double *out) {
    double mean_gap = 0, var_gap = 0, scale = 1 / (1 - keep);
    for (int64_t k = 0; k < c; k++) {
        double mean = sums[k] / count, var = sums[c + k] / count - mean * mean;
        var = var > 0 ? var : 0;
        mean_gap += fabs(rmean[k] * scale - mean) / sqrt(var + eps);
        var_gap += fabs((rvar[k] - keep) * scale - var) / (var + eps);
    }
    out[0] = mean_gap / c; out[1] = var_gap / c; out[2] = updates;
}

/* The per-layer statistics from the step's slots v, as stats_math.layer_values computes them (the same IEEE
   operations, so the same numbers): plan holds FIELDS int64 per layer (stats_math.py), order the layers to write,
   out NSTATS doubles per layer in STAT_NAMES order, NaN where a statistic does not apply. */
#define NS_NAME(name, text) text,
const char *const ns_stat_names[NSTATS + 1] = {NS_STATS(NS_NAME) NULL};
const char *const ns_plan_fields[FIELDS + 1] = {NS_PLAN(NS_NAME) NULL};
const char *const ns_moment_names[STATS + 1] = {NS_MOMENTS(NS_NAME) NULL};
#undef NS_NAME

static double dv(double a, double b) {
    if (isnan(a) || isnan(b)) return NAN;
    if (b == 0) return a == 0 ? NAN : copysign(INFINITY, a);
    return a / b;
}
static double root(double x) { return x >= 0 ? sqrt(x) : NAN; }
static double variance(const double *v, int64_t base, int64_t n, double *mean) {
    *mean = dv(v[base], (double)n);
    double norm = v[base + M_NORM], var = dv(norm * norm, (double)n) - *mean * *mean;
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
            r[MEAN] = mean; r[VARIANCE] = var; r[STD] = std; r[MIN] = v[b + M_LO]; r[MAX] = v[b + M_HI]; r[NON_FINITE] = v[b + M_BAD];
            r[ZERO] = isnan(v[b + M_NORM]) ? NAN : 1 - dv(v[b + M_NON_ZERO], (double)n);
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
        if (p[P_GAPS] >= 0) { r[MEAN_GAP] = v[p[P_GAPS]]; r[VAR_GAP] = v[p[P_GAPS] + 1]; r[MOVING_UPDATES] = v[p[P_GAPS] + 2]; }
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
