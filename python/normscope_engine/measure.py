"""Per-layer statistics of the leaf modules, with the formulas of src/worker/stats (STAT_NAMES order).

Built for speed (`npm run bench -- --only pytorch` times it against a plain step). When a C compiler is there,
each float32 activation is read once by the fused pass of native.py (sum, squares, min, max, zero, saturation and
per-channel counts together; gradients: one sum of squares), its results Python floats on the list below. Otherwise,
and for tensors it cannot read (other dtypes, strided, non-finite values), torch ops: every torch call costs
microseconds and every pass over an activation costs memory bandwidth, so the hooks make few calls, each a
reduction that reads a tensor without writing a temporary of its size (sum, per-row norm, amin/amax), its 0-d
result pushed on one list; `finish` reads the list back with one stack + tolist and does the scalar arithmetic
(mean, variance, gain, ratios) in Python (stats_math.py). Counting zeros writes into one reused scratch buffer.
A tensor whose memory was already measured this step (Flatten's view, a layer's input) reuses those reductions;
a layer seen feeding a BatchNorm keeps per-row sums so the BatchNorm's batch moments cost no extra pass.
Parameters: param_stats.py. Gradients into a module's output come from a tensor hook on the output (what
a full backward hook's grad_output is, without its extra autograd nodes). test/unit/pytorch_meter_check.py
compares every statistic with the direct computation."""
import math
import weakref

import torch
import torch.nn as nn

from . import native
from .param_stats import ParamStats
from .stats_math import layer_values

STAT_NAMES = ['mean', 'variance', 'std', 'min', 'max', 'gain', 'zeroFraction', 'deadFraction', 'saturatedFraction', 'nonFinite',
              'activationGradNorm', 'weightNorm', 'gradNorm', 'updateNorm', 'updateRatio', 'gammaMean', 'gammaStd', 'gammaMin',
              'gammaMax', 'betaMean', 'movingMeanGap', 'movingVarGap']
NORM_TYPES = tuple(t for t in (getattr(nn, n, None) for n in ('BatchNorm1d', 'BatchNorm2d', 'BatchNorm3d', 'LayerNorm', 'GroupNorm',
                   'InstanceNorm1d', 'InstanceNorm2d', 'InstanceNorm3d', 'RMSNorm', 'SyncBatchNorm', 'LocalResponseNorm')) if t is not None)
BN_TYPES = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)
ACTIVATIONS = {nn.ReLU: 'relu', nn.ReLU6: 'relu6', nn.Tanh: 'tanh', nn.Sigmoid: 'sigmoid', nn.LeakyReLU: 'leakyrelu', nn.GELU: 'gelu', nn.ELU: 'elu'}
TANH_SATURATION = math.tanh(5)
SIGMOID_SATURATION = 1 / (1 + math.exp(-5)) - 0.5
SATURATION = {'tanh': (0.0, TANH_SATURATION), 'sigmoid': (0.5, SIGMOID_SATURATION)}  # (center, threshold) of |y − center|
GAP_EPSILON = 1e-5
MIN_ROW = 64  # shorter rows do not take the fast row-norm path


def is_norm(module):
    return isinstance(module, NORM_TYPES) or type(module).__name__.endswith('Norm')


def _tensor(x):
    if isinstance(x, (tuple, list)):
        x = x[0] if x else None
    return x if isinstance(x, torch.Tensor) and x.is_floating_point() else None


def _rows(t):
    """`t` as (sample x channel) rows of its remaining dims, when those rows are long enough to reduce fast."""
    if t.dim() < 3 or not t.is_contiguous() or t.numel() < MIN_ROW * t.shape[0] * t.shape[1]:
        return None
    return t.view(t.shape[0] * t.shape[1], -1)


def _key(t):
    """Identity of the elements `t` holds now: views of the same contiguous memory share it; an in-place op changes it."""
    return (t.data_ptr(), t.numel(), t._version) if t.is_contiguous() else None


class Moments:
    """Slots (indices into Meter.scalars) of one tensor's reductions."""
    __slots__ = ('n', 's1', 's2', 'lo', 'hi', 'nnz', 'ref', 'shape', 'layer', 'row_norm', 'row_sum', 'non_finite', 'channels', 'dead', 'sat')

    def __init__(self, t, layer):
        self.n, self.shape, self.layer = t.numel(), t.shape, layer
        self.ref = weakref.ref(t)  # while it lives, no other tensor has its memory (and _key); not kept alive
        self.lo = self.hi = self.nnz = self.row_norm = self.row_sum = self.non_finite = None
        self.channels = self.dead = self.sat = None  # fused pass: per-channel (3, C) sums/squares/maxima, dead count, (sat, count)


class Meter:
    """Hooks on the leaf modules; `sampling` turns measuring on for the current step."""

    def __init__(self, leaves):
        self.leaves = leaves  # [(name, module)]
        self.order = []  # module indices in first-call order (the layer table)
        self.shapes = {}
        self.sampling = False
        self.handles = []
        self.scratch, self.views = torch.empty(0), {}  # zero counting writes here (one buffer, a view per shape)
        self.feeds_bn = set()  # layers whose output a BatchNorm normalizes (learned at the first sampled step)
        self.fused = native.fused_pass()  # None: torch ops only
        self.params = ParamStats(leaves, self.fused, is_norm)
        self._reset()
        for i, (_, module) in enumerate(leaves):
            if hasattr(module, 'inplace'):
                module.inplace = False  # an in-place op would overwrite the output the hooks measure
            self.handles.append(module.register_forward_hook(self._forward(i)))

    def _reset(self):
        self.scalars = []  # 0-d tensors of this step, read back at once in finish
        self.seen = {}  # _key → Moments measured this step
        self.grads_seen = {}
        self.rec = {}  # layer → its slots this step (a module called twice: the last call wins)
        self.bn = {}  # layer → (BatchNorm module, per-channel sum, per-channel sum of squares, count)

    def remove(self):
        for h in self.handles:
            h.remove()
        self.handles = []
        self.scratch, self.views = torch.empty(0), {}

    def _push(self, t):
        self.scalars.append(t)
        return len(self.scalars) - 1

    def _moments(self, t, full, layer=None, cmax=None, sat=None):
        """Sum and 2-norm (and, for outputs, min, max, non-zero count) of `t` as scalar slots: by the fused pass when
        it can, else by torch ops. `cmax`: per-channel maxima already taken (ReLU), whose max is the max. A layer seen
        feeding a BatchNorm also keeps per-row sums."""
        key = _key(t)
        m = self.seen.get(key) if key else None
        if m is not None and m.ref() is not None and (m.lo is not None or not full):
            return m
        m = self._fused_moments(t, layer, sat) if self.fused is not None and native.usable(t) else None
        if m is None:
            m = self._torch_moments(t, full, layer, cmax)
        if key:
            self.seen[key] = m
        return m

    def _fused_moments(self, t, layer, sat):
        """All of `t`'s statistics in one C pass (native.py); None when it holds a non-finite value."""
        r = self.fused.stats(t, sat)
        if r is None:
            return None
        total, squares, lo, hi, nnz, n_sat, dead, channels = r
        m = Moments(t, layer)
        base = len(self.scalars)
        self.scalars.extend((total, math.sqrt(squares), lo, hi, nnz))
        m.s1, m.s2, m.lo, m.hi, m.nnz = range(base, base + 5)
        m.channels, m.dead = channels, (dead if channels is not None else None)
        m.sat = (sat, n_sat) if sat else None
        return m

    def _torch_moments(self, t, full, layer, cmax):
        m = Moments(t, layer)
        scalars = self.scalars
        base = len(scalars)
        rows = _rows(t)
        if rows is not None:
            m.row_norm = torch.linalg.vector_norm(rows, dim=1)  # fast path: several times cheaper than one flat norm
            if layer in self.feeds_bn:
                m.row_sum = rows.sum(1)
            scalars.append(t.sum() if m.row_sum is None else m.row_sum.sum())
            scalars.append(torch.linalg.vector_norm(m.row_norm))
        else:
            scalars.append(t.sum())
            scalars.append(torch.linalg.vector_norm(t))
        m.s1, m.s2 = base, base + 1
        if full:
            scalars.append(torch.amin(t))
            scalars.append(torch.amax(t) if cmax is None else torch.amax(cmax))
            scalars.append(torch.ne(t, 0, out=self._scratch(t)).sum())  # count_nonzero branches: slow on ReLU maps
            m.lo, m.hi, m.nnz = base + 2, base + 3, base + 4
            if not math.isfinite(scalars[m.s2].item()):  # NaN/Inf propagate into the norm: count them only then
                m.non_finite = t.numel() - torch.isfinite(t).sum().item()
        return m

    def _scratch(self, t):
        view = self.views.get(t.shape)
        if view is None:
            if self.scratch.numel() < t.numel():
                self.scratch, self.views = torch.empty(t.numel()), {}
            view = self.views[t.shape] = self.scratch[:t.numel()].view(t.shape)
        return view

    def _forward(self, i):
        def hook(module, inputs, output):
            y = _tensor(output)
            if i not in self.shapes and y is not None:
                self.shapes[i] = [None, *y.shape[1:]]
                self.order.append(i)
            if not self.sampling or y is None or y.numel() == 0:
                return
            with torch.no_grad():
                self._measure(i, module, inputs, y)
            if y.requires_grad:
                y.register_hook(self._grad(i))
        return hook

    def _measure(self, i, module, inputs, y):
        act = ACTIVATIONS.get(type(module))
        relu, sat = act in ('relu', 'relu6') and y.dim() >= 2, SATURATION.get(act)
        # Dead = channel never positive. The fused pass takes conv maps' channel maxima; else torch ops do.
        cmax = _channel_max(y) if relu and not (y.dim() >= 4 and self.fused is not None and native.usable(y)) else None
        m = self._moments(y, True, i, cmax, sat)
        rec = self.rec[i] = {'out': m}
        if relu and cmax is None and m.dead is not None and m.shape == y.shape:
            rec['dead'] = self._push(m.dead), y.shape[1]
        elif relu:
            cmax = _channel_max(y) if cmax is None else cmax
            rec['dead'] = self._push((cmax <= 0).sum()), cmax.numel()
        elif sat:
            rec['sat'] = self._push(m.sat[1] if m.sat and m.sat[0] == sat else ((y - sat[0]).abs() >= sat[1]).sum())
        x = _tensor(inputs)
        if x is not None and x.numel():
            rec['in'] = xm = self._moments(x if x.dtype == torch.float32 else x.float(), False)
            if isinstance(module, BN_TYPES) and module.training and module.running_mean is not None:
                self.bn[i] = (module, *self._channel_sums(x, xm), x.numel() / x.shape[1])

    def _channel_sums(self, x, xm):
        """Per-channel sum and sum of squares of a BatchNorm's input: from its producer's rows when it kept them."""
        if xm.channels is not None and xm.shape[:2] == x.shape[:2]:
            return xm.channels[0], xm.channels[1]
        if xm.row_sum is not None and xm.shape[:2] == x.shape[:2]:
            n, c = x.shape[0], x.shape[1]
            return xm.row_sum.view(n, c).sum(0), xm.row_norm.square().view(n, c).sum(0)
        if xm.layer is not None:
            self.feeds_bn.add(xm.layer)  # from the next sampled step on, the producer keeps row sums
        dims = [d for d in range(x.dim()) if d != 1]
        return x.sum(dim=dims), (x * x).sum(dim=dims)

    def _grad(self, i):
        def hook(g):
            if self.sampling:
                key = _key(g)
                seen = self.grads_seen.get(key) if key else None
                if seen is None or seen[1]() is None:
                    norm = self.fused.norm(g) if self.fused is not None and native.usable(g) else None
                    if norm is None:
                        rows = _rows(g)
                        norm = torch.linalg.vector_norm(g if rows is None else torch.linalg.vector_norm(rows, dim=1))
                    seen = (self._push(norm), weakref.ref(g))
                    if key:
                        self.grads_seen[key] = seen
                self.rec.setdefault(i, {})['grad'] = seen[0]
        return hook

    def after_backward(self):
        self.params.after_backward(self.scalars, self.rec)

    def after_step(self):
        self.params.after_step(self.scalars, self.rec)

    def finish(self):
        """One row-major [layer][stat] list in layer-table order (NaN where a stat does not apply)."""
        vals = self.scalars  # Python floats (fused pass) and 0-d tensors, read back here at once
        lazy = [k for k, v in enumerate(vals) if type(v) is not float]
        if lazy:
            for k, v in zip(lazy, torch.stack([vals[k] for k in lazy]).tolist()):
                vals[k] = v
        gaps = _bn_gaps(self.bn)
        values = []
        for layer in self.order:
            rec = self.rec.get(layer, {})
            values.extend(layer_values(rec, vals, gaps.get(layer), STAT_NAMES))
        self._reset()
        return values


def _channel_max(y):
    """Per-channel maxima of a ReLU's output; channels: dim 1 of conv maps, else the last dim."""
    return y.amax(dim=[d for d in range(y.dim()) if d != 1]) if y.dim() >= 4 else y.reshape(-1, y.shape[-1]).amax(dim=0)


def _bn_gaps(bn):
    """layer → (moving-mean gap, moving-variance gap): mean over channels of |running mean − batch mean| /
    sqrt(batch var + ε) and of |running var − batch var| / (batch var + ε), in Python on one read-back per layer."""
    out = {}
    for i, (module, s, q, count) in bn.items():
        c = s.numel()
        with torch.no_grad():  # s, q: float64 from the fused pass, else float32
            v = s.tolist() + q.tolist() + torch.cat([module.running_mean, module.running_var]).tolist()
        mean_gap = var_gap = 0.0
        for k in range(c):
            mean = v[k] / count
            var = max(v[c + k] / count - mean * mean, 0.0)
            mean_gap += abs(v[2 * c + k] - mean) / math.sqrt(var + GAP_EPSILON)
            var_gap += abs(v[3 * c + k] - var) / (var + GAP_EPSILON)
        out[i] = (mean_gap / c, var_gap / c)
    return out
