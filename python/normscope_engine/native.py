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
import math
import os
import shutil
import stat
import subprocess
import tempfile

import torch

SOURCE = r'''
#include <stdint.h>
#include <math.h>
#include <string.h>
#define BLOCK 1024
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define CLONES __attribute__((target_clones("avx2", "default")))
#else
#define CLONES
#endif

typedef struct { double sum, sq; float lo, hi; int64_t nz, sat; } acc_t;

/* One row (or a whole flat tensor), blockwise; `sat` is a constant at each call, so each variant is lean. */
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

/* x: rows × len floats. out: sum, sum of squares, min, max, non-zero count, saturated count, dead channels
   (channel maximum ≤ 0). channels > 0: row r is channel r % channels; ch holds 3 × channels doubles (sums, sums
   of squares, maxima). thr < 0: no saturation count. */
CLONES void ns_stats(const float *x, int64_t rows, int64_t len, int64_t channels, float center, float thr, double *out, double *ch) {
    acc_t all = {0, 0, INFINITY, -INFINITY, 0, 0};
    for (int64_t c = 0; c < channels; c++) { ch[c] = 0; ch[channels + c] = 0; ch[2 * channels + c] = -INFINITY; }
    for (int64_t r = 0; r < rows; r++) {
        acc_t a = {0, 0, INFINITY, -INFINITY, 0, 0};
        if (thr >= 0) row(x + r * len, len, 1, center, thr, &a);
        else row(x + r * len, len, 0, 0, 0, &a);
        all.sum += a.sum; all.sq += a.sq; all.nz += a.nz; all.sat += a.sat;
        all.lo = a.lo < all.lo ? a.lo : all.lo; all.hi = a.hi > all.hi ? a.hi : all.hi;
        if (channels > 0) {
            int64_t c = r % channels;
            ch[c] += a.sum; ch[channels + c] += a.sq;
            if (a.hi > ch[2 * channels + c]) ch[2 * channels + c] = a.hi;
        }
    }
    int64_t dead = 0;
    for (int64_t c = 0; c < channels; c++) dead += ch[2 * channels + c] <= 0;
    out[0] = all.sum; out[1] = all.sq; out[2] = all.lo; out[3] = all.hi; out[4] = (double)all.nz; out[5] = (double)all.sat;
    out[6] = (double)dead;
}

/* Parameters: n tensors of float32 (addresses ptrs, lens elements). out[k] = sum of squares of tensor k, or with
   base, of tensor k minus its slice of base (the tensors one after the other); with copy, they are copied there. */
CLONES void ns_many(const int64_t *ptrs, const int64_t *lens, int64_t n, const float *base, float *copy, double *out) {
    int64_t off = 0;
    for (int64_t k = 0; k < n; k++) {
        const float *x = (const float *)(intptr_t)ptrs[k];
        int64_t len = lens[k];
        double total = 0;
        for (int64_t b = 0; b < len; b += BLOCK) {
            int64_t e = b + BLOCK < len ? b + BLOCK : len;
            float q = 0;
            if (base) {
                const float *y = base + off;
#pragma omp simd reduction(+ : q)
                for (int64_t i = b; i < e; i++) { float d = x[i] - y[i]; q += d * d; }
            } else {
#pragma omp simd reduction(+ : q)
                for (int64_t i = b; i < e; i++) q += x[i] * x[i];
            }
            total += q;
        }
        if (copy) memcpy(copy + off, x, (size_t)len * sizeof(float));
        out[k] = total;
        off += len;
    }
}

/* Sum of squares (gradient norms). */
CLONES double ns_sumsq(const float *x, int64_t n) {
    double total = 0;
    for (int64_t b = 0; b < n; b += BLOCK) {
        int64_t e = b + BLOCK < n ? b + BLOCK : n;
        float q = 0;
#pragma omp simd reduction(+ : q)
        for (int64_t i = b; i < e; i++) q += x[i] * x[i];
        total += q;
    }
    return total;
}
'''
MIN_LEN = 16  # shorter rows of (sample x channel): one flat pass, without per-channel results
FLAGS = ['-O3', '-fopenmp-simd', '-shared', '-fPIC']
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


def _build(cc, folder):
    """The shared library's path in `folder`, compiling it when it is not there yet (atomically: concurrent runs)."""
    key = hashlib.sha256('\0'.join([SOURCE, *FLAGS, cc]).encode()).hexdigest()[:16]
    lib = os.path.join(folder, f'stats-{key}.so')
    if os.path.exists(lib):
        return lib
    fd, src = tempfile.mkstemp(suffix='.c', dir=folder)
    tmp = src[:-2] + '.so'
    try:
        with os.fdopen(fd, 'w') as f:
            f.write(SOURCE)
        done = subprocess.run([cc, *FLAGS, '-o', tmp, src, '-lm'], stdin=subprocess.DEVNULL, capture_output=True, timeout=120)
        if done.returncode != 0:
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
    lib.ns_stats.argtypes = [ptr, i64, i64, i64, f32, f32, ptr, ptr]
    lib.ns_stats.restype = None
    lib.ns_many.argtypes = [ptr, ptr, i64, ptr, ptr, ptr]
    lib.ns_many.restype = None
    lib.ns_sumsq.argtypes = [ptr, i64]
    lib.ns_sumsq.restype = ctypes.c_double
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


class FusedPass:
    """The library's calls on tensors (each `usable`), with one reused output array."""

    def __init__(self, lib):
        self.lib, self.out = lib, (ctypes.c_double * 7)()

    def stats(self, t, sat=None):
        """(sum, sum of squares, min, max, non-zero count, saturated count, dead channels, per-channel (3, C) float64
        sums / sums of squares / maxima or None) of `t`; `sat` (center, threshold) counts |t − center| ≥ threshold.
        None when `t` holds a non-finite value or its squares overflow float: the torch path then measures it."""
        rows = channels = 0
        if t.dim() >= 3 and t.numel() >= MIN_LEN * t.shape[0] * t.shape[1]:
            rows, channels = t.shape[0] * t.shape[1], t.shape[1]
        ch = torch.empty(3, channels, dtype=torch.float64) if channels else None
        center, threshold = sat or (0.0, -1.0)
        n = t.numel()
        self.lib.ns_stats(t.data_ptr(), rows or 1, n // (rows or 1), channels, center, threshold, self.out, ch.data_ptr() if channels else None)
        v = list(self.out)
        return (*v, ch) if math.isfinite(v[0]) and math.isfinite(v[1]) else None

    def norm(self, t):
        """The 2-norm of `t`, or None when it is not finite (the torch path then computes it)."""
        sq = self.lib.ns_sumsq(t.data_ptr(), t.numel())
        return math.sqrt(sq) if math.isfinite(sq) else None

    def norms(self, tensors, base=None, copy=None):
        """2-norms of usable `tensors` (of each minus its slice of the flat float32 `base`) in one call, copying them
        one after the other into `copy` when given; None when one is not finite (the torch path then computes them)."""
        n = len(tensors)
        ptrs = (ctypes.c_int64 * n)(*[t.data_ptr() for t in tensors])
        lens = (ctypes.c_int64 * n)(*[t.numel() for t in tensors])
        out = (ctypes.c_double * n)()
        self.lib.ns_many(ptrs, lens, n, None if base is None else base.data_ptr(), None if copy is None else copy.data_ptr(), out)
        sq = list(out)
        return [math.sqrt(v) for v in sq] if all(map(math.isfinite, sq)) else None
