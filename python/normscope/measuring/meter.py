"""Per-layer statistics of the measured modules (layers.py: leaves, MultiheadAttention…) and of functional
activations (functional.py), with the formulas of src/worker/stats (STAT_NAMES order). Only forwards autograd records
count: a no_grad or inference-mode forward (an evaluation loop) is no part of a training step.

Built for speed (`npm run bench -- --only pytorch` times it against a plain step). A sampled step's results go into
numbered float64 slots (step_buffer.py); `finish` turns them into each layer's row (ns_finish in C, else stats_math.py).
When a C compiler is there, each float32 activation is read once, right after the layer wrote it (still in cache), by
the fused pass of native.py, which writes sum, norm, min, max, zero / saturation / non-finite counts and per-channel
sums and maxima straight into the slots; gradients: one norm. Tensors are never kept past their natural life: holding
activations or gradients for later makes the allocator map fresh memory every step, which costs more than measuring.
Otherwise, and for tensors the fused pass cannot read (other dtypes, strided), torch ops whose 0-d results wait in
the buffer: few calls, each a reduction that writes no temporary of the tensor's size. A tensor whose memory was
already measured this step (Flatten's view, a layer's input) reuses those slots. Parameters: param_stats.py.
With Python's headers, the hooks registered are hooks.c's C callables, which do what `_forward` and `_grad` do here
for float32 CPU tensors and call these methods for the rest, sharing the step's buffer, plan and seen tables.
Gradients into a module's output come from a tensor hook on the output (what a full backward hook's grad_output is,
without its extra autograd nodes). test/unit/pytorch_meter_check.py compares every statistic with the direct
computation."""

import array
import math
import weakref

import torch
import torch.nn as nn

from . import native, pickling
from .function_mode import TorchCallWatcher
from .functional import FunctionalActivations
from .layers import row_parameters
from .moving_average import moving_state
from .param_stats import ParamStats
from .stats_math import (
    BAD_COUNT,
    DEAD_COUNT,
    HI,
    LO,
    NON_ZERO,
    NORM,
    P_DEAD,
    P_DEAD_OF,
    P_GAPS,
    P_GRAD,
    P_IN,
    P_IN_N,
    P_OUT,
    P_OUT_N,
    P_SAT,
    SAT_COUNT,
    STAT_NAMES,
    SUM,
    K,
    Moments,
    layer_values,
)
from .step_buffer import StepBuffer
from .torch_path import bn_gaps, channel_max, channel_sums, on_device, row_view

__all__ = ['STAT_NAMES', 'Meter', 'is_norm', 'ACTIVATIONS', 'BN_TYPES', 'TANH_SATURATION', 'SIGMOID_SATURATION']
NORM_TYPES = tuple(
    t
    for t in (
        getattr(nn, n, None)
        for n in (
            'BatchNorm1d',
            'BatchNorm2d',
            'BatchNorm3d',
            'LayerNorm',
            'GroupNorm',
            'InstanceNorm1d',
            'InstanceNorm2d',
            'InstanceNorm3d',
            'RMSNorm',
            'SyncBatchNorm',
            'LocalResponseNorm',
        )
    )
    if t is not None
)
BN_TYPES = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)
ACTIVATIONS = {
    nn.ReLU: 'relu',
    nn.ReLU6: 'relu6',
    nn.Tanh: 'tanh',
    nn.Sigmoid: 'sigmoid',
    nn.LeakyReLU: 'leakyrelu',
    nn.GELU: 'gelu',
    nn.ELU: 'elu',
}
TANH_SATURATION = math.tanh(5)
SIGMOID_SATURATION = 1 / (1 + math.exp(-5)) - 0.5
SATURATION = {
    'tanh': (0.0, TANH_SATURATION),
    'sigmoid': (0.5, SIGMOID_SATURATION),
}  # (center, threshold) of |y − center|
FLOAT32, STRIDED = torch.float32, torch.strided


def is_norm(module):
    return isinstance(module, NORM_TYPES) or type(module).__name__.endswith('Norm')


def _tensor(x):
    if isinstance(x, (tuple, list)):
        x = x[0] if x else None
    return x if isinstance(x, torch.Tensor) and x.is_floating_point() else None


class Meter:
    """Hooks on the measured modules, rows for functional activations; `begin_step` … `finish` measure a step.
    Rows: the modules first, by index in `leaves`, then functional call sites, by index in `sites` after them."""

    def __init__(self, leaves, models=None):
        """leaves: [(name, module)]; models: [(name or None, model)] whose forwards are watched for functional
        activations (None: no functional rows)."""
        self.leaves = leaves
        self.sites = []  # functional.Site of rows len(leaves)…
        self.order = []  # row indices in first-call order (the layer table)
        self.frozen = False  # after the first finished step new rows go last (earlier samples' rows keep their places)
        self.shapes = {}
        self.fed_by = {}  # row → the row whose unchanged output is its input (at its first measured call)
        self.sampling = False
        self.buffer = StepBuffer()
        self.feeds_bn = set()  # layers whose output a BatchNorm normalizes (learned at the first sampled step)
        self.fused = native.fused_pass()  # None: torch ops only
        # the same hooks compiled (hooks.c), else these; the C Moments type's fields are read there directly
        self.hooks = hooks = native.hooks_module() if self.fused is not None else None
        self.moments_type = hooks.Moments if hooks else Moments
        self.params = ParamStats(leaves, self.fused, is_norm, hooks, self.row_parameters)
        self.activation = [ACTIVATIONS.get(type(m)) for _, m in leaves]
        self.functional = FunctionalActivations(self, models) if models else None
        self.outputs = set()  # rows whose output is a measured model's output (src/diagnosis/detectors/saturated.ts)
        pickling.keep_out_of_pickles()
        self.empty_plan = array.array('q', [-1] * (K * len(leaves)))
        self.plan = array.array(
            'q', self.empty_plan
        )  # K slots per layer (stats_math.FIELDS); a module called twice: the last call wins
        # key → Moments measured this step. Key: (data_ptr, numel, _version) of a contiguous tensor, the identity of the
        # elements it holds now: views of the same memory share it, an in-place op changes it (inlined: hot path).
        self.seen, self.grads_seen = {}, {}
        self.bn = {}  # layer → (BatchNorm, channel sums: (slot, C) or (sum, square-sum tensors), count): gaps at finish
        # torch path: a ReLU output's base slot → its per-unit maxima (watching/distributed.py reads them)
        self.unit_max = {}
        self.scratch, self.views = (
            torch.empty(0),
            {},
        )  # torch path: zero counting writes here (one buffer, a view per shape)
        self.state = None
        if hooks:
            state = self.state = hooks.State(
                self,
                bytes(a in ('relu', 'relu6') for a in self.activation),
                bytes(isinstance(m, BN_TYPES) for _, m in leaves),
                [SATURATION.get(a) for a in self.activation],
                moving_state,
            )
            self.grad_hooks = [hooks.grad_hook(state, i) for i in range(len(leaves))]
            forward = [
                hooks.forward_hook(state, i, m, self._forward(i), self.grad_hooks[i]) for i, (_, m) in enumerate(leaves)
            ]
        else:
            self.grad_hooks = [self._grad(i) for i in range(len(leaves))]
            forward = [self._forward(i) for i in range(len(leaves))]
        self.handles = []
        for (_, module), hook in zip(leaves, forward):
            if hasattr(module, 'inplace'):
                module.inplace = False  # an in-place op would overwrite the output the hooks measure
            self.handles.append(module.register_forward_hook(hook))
        # which row gives each model's output: structural, so read once, at the model's first measured forward
        self.output_hooks = {id(model): model.register_forward_hook(self._model_output) for _, model in models or ()}

    @property
    def compiled(self):
        return self.hooks is not None

    def begin_step(self):
        """Measure this step: every measured layer's forward and backward until `finish`, functional calls until
        backward."""
        self.sampling = True
        if self.functional is not None and self.functional.arm() and self.state is not None:
            self.state.mode = self.functional.watcher.mode  # the compiled hooks pause it

    def end_forward(self):
        """Backward begins: functional calls are no longer watched (the hooks keep measuring gradients)."""
        if self.functional is not None:
            self.functional.disarm()
            if self.state is not None:
                self.state.mode = None

    def row_parameters(self, i):
        """The parameters row `i` owns (layers.py); none for a functional row."""
        if i >= len(self.leaves):
            return []
        ran = {id(self.leaves[j][1]) for j in self.shapes if j < len(self.leaves)}
        return row_parameters(self.leaves[i][1], ran)

    def add_row(self, site):
        """A new functional row: its index. Until the first step is finished the table lists it where it ran, last
        after that. The plan gets its slots (a copy: the compiled hooks hold the old one until replan)."""
        i = len(self.leaves) + len(self.sites)
        self.sites.append(site)
        self.activation.append(site.activation)
        self.grad_hooks.append(self._grad(i))
        self.empty_plan.extend([-1] * K)
        plan = array.array('q', self.plan)
        plan.extend([-1] * K)
        self.plan = plan
        if self.state is not None:
            self.state.replan()
        # Where it ran: after the last row measured so far in this step (modules listed at earlier steps included).
        ran = [k for k, row in enumerate(self.order) if plan[row * K + P_OUT] >= 0]
        self.order.insert(ran[-1] + 1 if ran and not self.frozen else len(self.order), i)
        return i

    def _model_output(self, model, inputs, output):
        """Marks the row whose output is the model's own (a VAE's final torch.sigmoid): an output activation saturates
        where a confident model sits, and its loss, not its slope, sets the gradient there."""
        if not self.sampling or not torch.is_grad_enabled():
            return
        self.output_hooks.pop(id(model)).remove()
        y = _tensor(output)
        m = self.seen.get((y.data_ptr(), y.numel(), y._version)) if y is not None and y.is_contiguous() else None
        if m is not None and m.layer is not None:
            self.outputs.add(m.layer)

    def _reset(self):
        # in place: the compiled hooks hold these objects
        self.seen.clear()
        self.grads_seen.clear()
        self.plan[:] = self.empty_plan
        self.bn.clear()
        self.unit_max.clear()

    def remove(self):
        if self.functional is not None:
            self.functional.remove()
        self.end_forward()
        for h in [*self.handles, *self.output_hooks.values()]:
            h.remove()
        self.handles, self.output_hooks = [], {}
        self.scratch, self.views = torch.empty(0), {}

    def _forward(self, i):
        grad_hook, leaf = self.grad_hooks[i], self.leaves[i][1]

        def hook(module, inputs, output):
            if not self.sampling and i in self.shapes or not torch.is_grad_enabled() or module is not leaf:
                # no_grad / inference mode: an evaluation loop (minGPT's, torchvision's evaluate), no part of a
                # training step. Not `leaf`: a copy of the model (copy.deepcopy keeps hooks), e.g. an EMA model's
                return
            y = output if type(output) is torch.Tensor and output.is_floating_point() else _tensor(output)
            if i not in self.shapes and y is not None:
                self.shapes[i] = [None, *y.shape[1:]]
                self.order.append(i)
            if not self.sampling or y is None or y.numel() == 0:
                return
            watcher = self.functional.watcher if self.functional is not None else None
            paused = watcher.pause() if watcher is not None else None
            try:
                self._measure_output(i, y)
                self.measure_input(i, module, inputs)
                if y.requires_grad:
                    y.register_hook(grad_hook)
            finally:
                TorchCallWatcher.resume(paused)

        return hook

    def _measure_output(self, i, y):
        act = self.activation[i]
        relu, sat = act in ('relu', 'relu6') and y.dim() >= 2, SATURATION.get(act) if act else None
        m = self._moments(y, True, i, sat, relu)
        plan, p = self.plan, i * K
        plan[p + P_OUT], plan[p + P_OUT_N] = m.base, m.n
        if relu:
            plan[p + P_DEAD], plan[p + P_DEAD_OF] = self._dead(y, m)
        elif sat:
            plan[p + P_SAT] = m.base + SAT_COUNT if m.sat == sat else self._sat_slot(y, sat)

    def _sat_slot(self, y, sat):
        return self._torch(lambda: ((y - sat[0]).abs() >= sat[1]).sum())

    def measure_input(self, i, module, inputs):
        plan, p = self.plan, i * K
        x = inputs[0] if type(inputs) is tuple and inputs else None
        if type(x) is not torch.Tensor or not x.is_floating_point():
            x = _tensor(inputs)
        if x is not None and x.numel():
            xm = self._moments(x if x.dtype is FLOAT32 else x.float(), False)
            plan[p + P_IN], plan[p + P_IN_N] = xm.base, xm.n
            if xm.layer is not None and xm.layer != i:  # the unchanged output of a layer measured this step
                self.fed_by.setdefault(i, xm.layer)
            if isinstance(module, BN_TYPES) and module.training and module.running_mean is not None:
                self._bn_gap(i, module, x, xm)

    def _torch(self, reduce):
        """A torch-ops reduction into a new slot (outside autograd)."""
        with torch.no_grad():
            return self.buffer.push(reduce())

    def _bn_gap(self, i, module, x, xm):
        """Moving-statistics gaps of a BatchNorm in training: at once in C from its producer's per-channel slots,
        else at `finish` in Python (running statistics change only in forward, so both read the same)."""
        sums, count = channel_sums(x, xm, self.feeds_bn), x.numel() / x.shape[1]
        if (
            type(sums[0]) is int
            and self.fused is not None
            and native.usable(module.running_mean)
            and native.usable(module.running_var)
        ):
            buf = self.buffer
            slot = self.plan[i * K + P_GAPS] = buf.take(3)
            self.fused.bn_gap(buf.address(sums[0]), sums[1], count, module, buf.address(slot))
        else:
            self.bn[i] = (module, sums, count)

    def _moments(self, t, full, layer=None, sat=None, relu=False):
        """Slots of `t`'s reductions (full: also min, max, counts), by the fused pass when it can, else by torch ops.
        The fused pass adds per-unit sums and maxima where they are used: a ReLU's (dead units: channels of conv maps,
        else features) and a BatchNorm input's (its batch statistics)."""
        key = (t.data_ptr(), t.numel(), t._version) if t.is_contiguous() else None  # see seen
        m = self.seen.get(key) if key else None
        if (
            m is not None
            and m.ref() is not None
            and (m.full or not full)
            and (sat is None or m.sat == sat)
            and not relu
        ):
            return m
        if self.fused is not None and t.dtype is FLOAT32 and t.layout is STRIDED and t.is_cpu and key:  # native.usable
            feeds_bn = layer in self.feeds_bn
            dims = t.dim()
            m = self._fused_moments(
                t,
                layer,
                sat,
                dims >= 3 and (feeds_bn or relu and dims >= 4),
                dims == 2 and feeds_bn or relu and dims <= 3,
            )
        else:
            with torch.no_grad():
                m = self._torch_moments(t, full, layer, sat)
        if key:
            self.seen[key] = m
        return m

    def _fused_moments(self, t, layer, sat, per_channel, columns):
        channels = t.shape[1] if per_channel else 0
        buf = self.buffer
        base = buf.take(native.STATS + 3 * channels)
        center, threshold = sat or (0.0, -1.0)
        self.fused.stats(t, channels, center, threshold, buf.address(base))
        m = self.moments_type(base, t, weakref.ref(t), layer, True, channels, sat)
        if channels:
            m.chan = base + native.STATS
        if columns:
            m.cols = buf.take(native.COLUMNS * t.shape[-1] + 1)
            self.fused.columns(t.view(-1, t.shape[-1]), buf.address(m.cols))
        return m

    def _torch_moments(self, t, full, layer, sat):
        buf = self.buffer
        base = buf.take(native.STATS)
        m = self.moments_type(base, t, weakref.ref(t), layer, full)
        rows = row_view(t)
        if rows is not None:
            m.row_norm = torch.linalg.vector_norm(rows, dim=1)  # fast path: several times cheaper than one flat norm
            if layer in self.feeds_bn:
                m.row_sum = rows.sum(1)
            total, norm = t.sum() if m.row_sum is None else m.row_sum.sum(), torch.linalg.vector_norm(m.row_norm)
        else:
            total, norm = t.sum(), torch.linalg.vector_norm(t)
        buf.put(base + SUM, total)
        buf.put(base + NORM, norm)
        if full:
            buf.put(base + LO, torch.amin(t))
            buf.put(base + HI, torch.amax(t))
            if on_device(t):  # no host read per layer (torch_path.py): the counts stay on the device
                buf.put(base + NON_ZERO, torch.count_nonzero(t))
                buf.put(base + BAD_COUNT, t.numel() - torch.isfinite(t).sum())
            else:
                buf.put(
                    base + NON_ZERO, torch.ne(t, 0, out=self._scratch(t)).sum()
                )  # count_nonzero branches: slow on ReLU maps
                finite = math.isfinite(norm.item())  # NaN/Inf propagate into the norm: count them only then
                buf.put(base + BAD_COUNT, 0.0 if finite else float(t.numel() - torch.isfinite(t).sum().item()))
            if sat:
                buf.put(base + SAT_COUNT, ((t - sat[0]).abs() >= sat[1]).sum())
                m.sat = sat
        return m

    def _dead(self, y, m):
        """(slot of the dead-unit count, units): channels of conv maps (dim 1), else features (last dim)."""
        if y.dim() >= 4 and m.chan is not None:
            return m.base + DEAD_COUNT, m.channels
        if y.dim() < 4 and m.cols is not None:
            return m.cols + native.COLUMNS * y.shape[-1], y.shape[-1]
        with torch.no_grad():
            cmax = self.unit_max[m.base] = channel_max(y)
            return self.buffer.push((cmax <= 0).sum()), cmax.numel()

    def _scratch(self, t):
        view = self.views.get(t.shape)
        if view is None:
            if self.scratch.numel() < t.numel():
                self.scratch, self.views = torch.empty(t.numel()), {}
            view = self.views[t.shape] = self.scratch[: t.numel()].view(t.shape)
        return view

    def _grad(self, i):
        def hook(g):
            if self.sampling:
                self.plan[i * K + P_GRAD] = self._grad_norm(g)

        return hook

    def _grad_norm(self, g):
        key = (g.data_ptr(), g.numel(), g._version) if g.is_contiguous() else None  # see seen
        seen = self.grads_seen.get(key) if key else None
        if seen is None or seen[1]() is None:
            buf = self.buffer
            if (
                self.fused is not None and key and g.dtype is FLOAT32 and g.layout is STRIDED and g.is_cpu
            ):  # native.usable
                slot = buf.take(1)
                self.fused.norm(g, buf.address(slot))
            else:
                rows = row_view(g)
                slot = buf.push(torch.linalg.vector_norm(g if rows is None else torch.linalg.vector_norm(rows, dim=1)))
            seen = (slot, weakref.ref(g))
            if key:
                self.grads_seen[key] = seen
        return seen[0]

    def after_backward(self):
        self.end_forward()
        self.params.after_backward(self.buffer, self.plan)

    def after_step(self):
        self.params.after_step(self.buffer, self.plan)

    def finish(self):
        """Ends the step (see begin_step). One row-major [layer][stat] list in layer-table order (NaN where a stat
        does not apply): by ns_finish in C
        on the buffer's memory with the fused pass, else by stats_math in Python on the read-back list."""
        self.end_forward()
        self.sampling = False
        buf, plan = self.buffer, self.plan
        if self.bn:
            bn_gaps(self.bn, buf, plan)
        if self.fused is not None:
            buf.flush()
            count = len(self.order) * len(STAT_NAMES)
            out = buf.take(count)
            if self.hooks:
                values = self.hooks.finish(buf.address(0), plan, self.order, buf.address(out))
            else:
                self.fused.finish(buf.address(0), plan, self.order, buf.address(out))
                values = buf.values(out, count)
            buf.clear()
        else:
            vals = buf.read()
            values = []
            for layer in self.order:
                values.extend(layer_values(plan, layer, vals))
        self._reset()
        self.frozen = True
        return values
