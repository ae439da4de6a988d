"""The fused statistics pass (fused_stats.c): one C loop reads a contiguous float32 tensor once and writes its sum,
norm, min, max, non-zero, saturated (|x − center| ≥ threshold) and non-finite counts and, where asked, per-channel
sums, sums of squares and maxima. torch has no single reduction giving these; its ops make about five passes. The
other functions: gradient and parameter norms, γ/β moments, BatchNorm gaps, and every layer's row (ns_finish).

fused_stats.c is compiled on first use with the system compiler ($CC, else `cc`/`gcc` on PATH) into a per-user
cache folder, keyed by a hash of sources, flags and compiler, and loaded with ctypes; nothing is built at install time
or downloaded. Where this interpreter's headers (Python.h) are found, the build is instead the CPython extension of
hooks*.c with fused_stats.c (separate translation units sharing measuring.h): the same library for ctypes, plus
meter.py's hooks and param_stats.py's per-step calls in C (`hooks_module()`), since in Python their own bookkeeping
cost more than the statistics. A failed extension build falls back to fused_stats.c alone, and NORMSCOPE_NO_HOOKS=1
skips it. Without a compiler, when compiling or loading fails, or with NORMSCOPE_NO_NATIVE=1, `fused_pass()` is None
and meter.py uses torch ops (the same numbers). Single-threaded; sums are float within blocks of BLOCK
elements and double across blocks (torch's own float reductions are about as exact)."""

import ctypes
import glob
import hashlib
import importlib.machinery
import importlib.util
import os
import shutil
import stat
import subprocess
import sys
import sysconfig
import tempfile

import torch

from .moving_average import moving_state
from .stats_math import FIELDS, REDUCTIONS, STAT_NAMES

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_FILE = os.path.join(HERE, 'fused_stats.c')
HEADER = os.path.join(HERE, 'measuring.h')  # the statistics' layout and what the translation units share
# Reassociating float sums (not -ffast-math: NaN and Inf must keep their meaning) lets several partial sums run at
# once, about twice as fast; a compiler that refuses a flag gets the plain set.
# Hidden visibility: only the ns_* functions and name lists (measuring.h's NS_EXPORT) and the module's PyInit
# are exported.
FLAG_SETS = (
    [
        '-O3',
        '-fopenmp-simd',
        '-fassociative-math',
        '-fno-signed-zeros',
        '-fno-trapping-math',
        '-funroll-loops',
        '-fvariable-expansion-in-unroller',
        '-shared',
        '-fPIC',
        '-fvisibility=hidden',
    ],
    ['-O3', '-shared', '-fPIC', '-fvisibility=hidden'],
)
# NORMSCOPE_STRICT_C=1 (the tests): every warning is an error, and a failed build raises with the compiler's output
# instead of falling back to torch ops.
STRICT_FLAGS = ['-Wall', '-Wextra', '-Werror']


def _extra_flags():
    """NORMSCOPE_STRICT_C's flags, and NORMSCOPE_CFLAGS (the sanitizer test: -fsanitize=address,undefined)."""
    return (STRICT_FLAGS if _strict() else []) + os.environ.get('NORMSCOPE_CFLAGS', '').split()


_lib = []  # [the loaded library or None, the hooks module or None] once tried


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
    return _private_dir(os.path.join(base, 'normscope')) or _private_dir(
        os.path.join(tempfile.gettempdir(), f'normscope-{os.getuid()}')
    )


def _strict():
    return os.environ.get('NORMSCOPE_STRICT_C') == '1'


def _compile(cc, flags, sources, out):
    """The compiler's error output, '' when it built `out`."""
    done = subprocess.run(
        [cc, *flags, *_extra_flags(), '-o', out, *sources, '-lm'],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=120,
    )
    return '' if done.returncode == 0 else done.stderr.decode(errors='replace') or f'{cc} exited with {done.returncode}'


def _python_headers():
    """The -I/-undefined flags of a CPython extension when this interpreter's headers are there, else None."""
    if os.environ.get('NORMSCOPE_NO_HOOKS') == '1':
        return None
    include = sysconfig.get_paths().get('include')
    if not include or not os.path.exists(os.path.join(include, 'Python.h')):
        return None
    return ['-I', include, *(['-undefined', 'dynamic_lookup'] if sys.platform == 'darwin' else [])]


def _build(cc, folder, headers):
    """The shared library's path in `folder`, compiling it when it is not there yet (atomically: concurrent runs):
    with `headers`, the hooks extension (which holds the fused pass too), else the fused pass alone."""
    sources = [*(sorted(glob.glob(os.path.join(HERE, 'hooks*.c'))) if headers else []), SOURCE_FILE]
    parts = []
    for path in [*sources, HEADER]:
        with open(path, 'rb') as f:
            parts.append(f.read())
    extra = [*headers, sys.version, sysconfig.get_config_var('EXT_SUFFIX') or ''] if headers else []
    flags = [f for flag_set in FLAG_SETS for f in flag_set] + _extra_flags()
    key = hashlib.sha256(
        b'\0'.join([*parts, *(f.encode() for f in flags), cc.encode(), *(e.encode() for e in extra)])
    ).hexdigest()[:16]
    lib = os.path.join(folder, f'{"hooks" if headers else "stats"}-{key}.so')
    if os.path.exists(lib):
        return lib
    fd, tmp = tempfile.mkstemp(suffix='.so', dir=folder)
    os.close(fd)
    try:
        errors = []
        for flag_set in FLAG_SETS:
            errors.append(_compile(cc, [*flag_set, *(headers or [])], sources, tmp))
            if not errors[-1]:
                break
        else:
            if _strict():
                raise RuntimeError(
                    f'NormScope: the C sources did not build with {" ".join(_extra_flags())}:\n{errors[0]}'
                )
            return None
        os.replace(tmp, lib)
        return lib
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _load_hooks(path):
    """The compiled hooks module of the library at `path`, or None."""
    try:
        loader = importlib.machinery.ExtensionFileLoader('_normscope_hooks', path)
        spec = importlib.util.spec_from_file_location('_normscope_hooks', path, loader=loader)
        module = importlib.util.module_from_spec(spec)
        loader.exec_module(module)
        return module
    except Exception:
        if _strict():
            raise
        return None


def _names(lib, symbol):
    """A NULL-terminated list of C strings the library exports (measuring.h's name lists)."""
    array = ctypes.cast(getattr(lib, symbol), ctypes.POINTER(ctypes.c_char_p))
    names = []
    while array[len(names)] is not None:
        names.append(array[len(names)].decode())
    return names


def check_layout(lib):
    """The statistics' layout compiled into `lib` (measuring.h) is stats_math.py's, or this raises: a mismatch would
    put every statistic in the wrong column, so it stops the run rather than fall back to torch ops unnoticed."""
    for symbol, names in (('ns_stat_names', STAT_NAMES), ('ns_plan_fields', FIELDS), ('ns_moment_names', REDUCTIONS)):
        compiled = _names(lib, symbol)
        if compiled != list(names):
            raise RuntimeError(f'NormScope: measuring.h lists {symbol} as {compiled}, stats_math.py as {list(names)}')


def _load():
    """(the library, the hooks module or None), or (None, None)."""
    if os.environ.get('NORMSCOPE_NO_NATIVE') == '1':
        return None, None
    try:  # whatever goes wrong here (no compiler, no writable folder, no getuid on Windows, a bad build): torch ops
        cc, folder, headers = compiler(), _cache_dir(), _python_headers()
        path = cc and folder and (headers and _build(cc, folder, headers) or _build(cc, folder, None))
        if not path:
            return None, None
        lib = ctypes.CDLL(path)
    except Exception:
        if _strict():
            raise
        return None, None
    check_layout(lib)
    i64, f32, ptr = ctypes.c_int64, ctypes.c_float, ctypes.c_void_p
    for name, args in (
        ('ns_stats', [ptr, i64, i64, i64, f32, f32, ptr]),
        ('ns_columns', [ptr, i64, i64, ptr]),
        ('ns_norm', [ptr, i64, ptr]),
        ('ns_param', [ptr, i64, ptr]),
        ('ns_many', [ptr, ptr, i64, ptr, ptr, i64, ptr]),
        ('ns_bn_gap', [ptr, i64, ctypes.c_double, ptr, ptr, ctypes.c_double, ctypes.c_double, ctypes.c_double, ptr]),
        ('ns_finish', [ptr, ptr, ptr, i64, ptr]),
    ):
        fn = getattr(lib, name)
        fn.argtypes, fn.restype = args, None
    return lib, _load_hooks(path) if os.path.basename(str(path)).startswith('hooks-') else None


def library():
    """The loaded library, or None (fall back to torch ops); compiled or found at the first call of the process."""
    if not _lib:
        _lib.extend(_load())
    return _lib[0]


def hooks_module():
    """The compiled hooks (hooks.c: State, forward_hook, grad_hook, norms, moments, finish), or None (meter.py's
    Python hooks)."""
    library()
    return _lib[1]


def fused_pass():
    """A FusedPass, or None (fall back to torch ops)."""
    lib = library()
    return FusedPass(lib) if lib is not None else None


def note():
    if library() is not None:
        return (
            'statistics: fused C pass, hooks compiled'
            if hooks_module()
            else 'statistics: fused C pass, Python hooks (no Python headers)'
        )
    return 'statistics: torch ops (no C compiler, its build failed, or NORMSCOPE_NO_NATIVE=1)'


def usable(t, f32=torch.float32, strided=torch.strided):
    """The fused pass reads `t`'s memory directly: only a dense contiguous float32 CPU tensor (dtypes and layouts are
    singletons)."""
    return t.dtype is f32 and t.is_cpu and t.layout is strided and t.is_contiguous()


STATS = len(REDUCTIONS)  # doubles ns_stats writes (stats_math.SUM … BAD_COUNT), then 3 x channels more with channels
PARAM = 4  # ns_param: mean, variance, min, max
COLUMNS = 3  # ns_columns: 3 x columns doubles, then the dead count


class FusedPass:
    """The library's calls on `usable` tensors. Each writes float64 results at an address (a slot of the step's
    buffer, meter.py), so nothing is converted to Python objects until the step is read back."""

    def __init__(self, lib):
        self._stats, self._columns, self._norm, self._many, self._param = (
            lib.ns_stats,
            lib.ns_columns,
            lib.ns_norm,
            lib.ns_many,
            lib.ns_param,
        )
        self._bn_gap, self._finish = lib.ns_bn_gap, lib.ns_finish

    def stats(self, t, channels, center, threshold, out):
        """STATS doubles of `t` at `out` (see fused_stats.c), and with `channels` (dim 1 of a tensor of 3+ dims)
        per-channel
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
        self._many(
            ptrs,
            lens,
            n,
            None if base is None else base.data_ptr(),
            None if copy is None else copy.data_ptr(),
            ncopy,
            out,
        )

    def finish(self, vals, plan, order, out):
        """Every layer's statistics (stats_math.layer_values in C) at `out`: `vals` the slots' address, `plan` and
        `order` an int64 array.array and a list."""
        self._finish(vals, plan.buffer_info()[0], (ctypes.c_int64 * len(order))(*order), len(order), out)

    def bn_gap(self, sums, channels, count, module, out):
        """A BatchNorm's moving-statistics gaps and update count (three slots) at `out` from its input's per-channel
        sums at address `sums`."""
        keep, updates, eps = moving_state(module)
        self._bn_gap(
            sums,
            channels,
            count,
            module.running_mean.data_ptr(),
            module.running_var.data_ptr(),
            eps,
            keep,
            updates,
            out,
        )
