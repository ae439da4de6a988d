"""Per-layer statistics of the leaf modules, with the formulas of src/worker/stats (STAT_NAMES order).
Every statistic is a 0-d torch tensor computed by torch ops during the step; the step's scalars are
stacked and read back once (`finish`). Gradients into a module's output come from a tensor hook on the
output (what a full backward hook's grad_output is, without its in-place restrictions)."""
import math

import torch
import torch.nn as nn

STAT_NAMES = ['mean', 'variance', 'std', 'min', 'max', 'gain', 'zeroFraction', 'deadFraction', 'saturatedFraction', 'nonFinite',
              'activationGradNorm', 'weightNorm', 'gradNorm', 'updateNorm', 'updateRatio', 'gammaMean', 'gammaStd', 'gammaMin',
              'gammaMax', 'betaMean', 'movingMeanGap', 'movingVarGap']
COL = {name: i for i, name in enumerate(STAT_NAMES)}
NORM_TYPES = tuple(t for t in (getattr(nn, n, None) for n in ('BatchNorm1d', 'BatchNorm2d', 'BatchNorm3d', 'LayerNorm', 'GroupNorm',
                   'InstanceNorm1d', 'InstanceNorm2d', 'InstanceNorm3d', 'RMSNorm', 'SyncBatchNorm', 'LocalResponseNorm')) if t is not None)
BN_TYPES = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)
ACTIVATIONS = {nn.ReLU: 'relu', nn.ReLU6: 'relu6', nn.Tanh: 'tanh', nn.Sigmoid: 'sigmoid', nn.LeakyReLU: 'leakyrelu', nn.GELU: 'gelu', nn.ELU: 'elu'}
TANH_SATURATION = math.tanh(5)
SIGMOID_SATURATION = 1 / (1 + math.exp(-5)) - 0.5
GAP_EPSILON = 1e-5


def is_norm(module):
    return isinstance(module, NORM_TYPES) or type(module).__name__.endswith('Norm')


def _tensor(x):
    if isinstance(x, (tuple, list)):
        x = x[0] if x else None
    return x if isinstance(x, torch.Tensor) and x.is_floating_point() else None


class Meter:
    """Hooks on the leaf modules; `sampling` turns measuring on for the current step."""

    def __init__(self, leaves):
        self.leaves = leaves  # [(name, module)]
        self.order = []  # module indices in first-call order (the layer table)
        self.shapes = {}
        self.sampling = False
        self.pending = []  # (layer, column, scalar tensor, post-processing)
        self.handles = []
        self.before = {}
        self.moments = {}  # (data_ptr, shape) of an output measured this step → its variance (the next layer's gain)
        self.finite_checks = []
        for i, (_, module) in enumerate(leaves):
            if hasattr(module, 'inplace'):
                module.inplace = False  # an in-place op would overwrite the output the hooks measure
            self.handles.append(module.register_forward_hook(self._forward(i)))

    def remove(self):
        for h in self.handles:
            h.remove()
        self.handles = []

    def _put(self, layer, stat, value):
        self.pending.append((layer, COL[stat], value))

    def _forward(self, i):
        def hook(module, inputs, output):
            y = _tensor(output)
            if i not in self.shapes and y is not None:
                self.shapes[i] = [None, *y.shape[1:]]
                self.order.append(i)
            if not self.sampling or y is None:
                return
            yd = y.detach()
            n = yd.numel()
            flat = yd.reshape(-1)
            # Sum and sum of squares (vector_norm²) are several times cheaper than torch.var_mean on CPU.
            s1, s2 = flat.sum(), torch.linalg.vector_norm(flat).square()
            mean = s1 / n
            var = (s2 / n - mean * mean).clamp_min(0)
            self.moments[yd.data_ptr(), yd.shape] = var
            self._put(i, 'mean', mean)
            self._put(i, 'variance', var)
            lo, hi = torch.aminmax(flat)
            self._put(i, 'min', lo)
            self._put(i, 'max', hi)
            self._put(i, 'zeroFraction', 1 - torch.sign(flat).abs().sum() / n)  # sign/abs/sum beats count_nonzero on CPU
            # NaN/Inf propagate into the sum of squares: count them only then (in finish), not every step.
            self.finite_checks.append((i, s2, yd))
            x = _tensor(inputs)
            if x is not None:
                xvar = self.moments.get((x.data_ptr(), x.shape))
                if xvar is None:
                    xf = x.detach().reshape(-1).float()
                    xm = xf.sum() / xf.numel()
                    xvar = (torch.linalg.vector_norm(xf).square() / xf.numel() - xm * xm).clamp_min(0)
                self._put(i, 'gain', var.sqrt() / xvar.sqrt())
            act = ACTIVATIONS.get(type(module))
            if act in ('relu', 'relu6') and yd.dim() >= 2:
                channels = yd.transpose(0, 1).reshape(yd.shape[1], -1) if yd.dim() >= 4 else yd.reshape(-1, yd.shape[-1]).t()
                self._put(i, 'deadFraction', (channels.max(dim=1).values <= 0).float().mean())
            elif act == 'tanh':
                self._put(i, 'saturatedFraction', (yd.abs() >= TANH_SATURATION).sum() / n)
            elif act == 'sigmoid':
                self._put(i, 'saturatedFraction', ((yd - 0.5).abs() >= SIGMOID_SATURATION).sum() / n)
            if isinstance(module, BN_TYPES) and module.training and module.running_mean is not None and x is not None:
                dims = [d for d in range(x.dim()) if d != 1]
                xd = x.detach()
                count = xd.numel() / xd.shape[1]
                bmean = xd.sum(dim=dims) / count
                bvar = ((xd * xd).sum(dim=dims) / count - bmean * bmean).clamp_min(0)
                self._put(i, 'movingMeanGap', ((module.running_mean - bmean).abs() / (bvar + GAP_EPSILON).sqrt()).mean())
                self._put(i, 'movingVarGap', ((module.running_var - bvar).abs() / (bvar + GAP_EPSILON)).mean())
            if y.requires_grad:
                y.register_hook(lambda g: self._put(i, 'activationGradNorm', torch.linalg.vector_norm(g.detach())) if self.sampling else None)
        return hook

    def _params(self, module):
        return [p for p in module.parameters(recurse=False) if p.requires_grad]

    def after_backward(self):
        """Weight and gradient norms, and a copy of the weights for the update norm."""
        self.before = {}
        for i, (_, module) in enumerate(self.leaves):
            params = self._params(module)
            if not params:
                continue
            self.before[i] = [p.detach().clone() for p in params]
            self._put(i, 'weightNorm', torch.stack([p.detach().pow(2).sum() for p in params]).sum().sqrt())
            grads = [p.grad.detach().pow(2).sum() for p in params if p.grad is not None]
            if grads:
                self._put(i, 'gradNorm', torch.stack(grads).sum().sqrt())

    def after_step(self):
        for i, copies in self.before.items():
            module = self.leaves[i][1]
            update = torch.stack([(p.detach() - c).pow(2).sum() for p, c in zip(self._params(module), copies)]).sum().sqrt()
            self._put(i, 'updateNorm', update)
            weight = torch.stack([c.pow(2).sum() for c in copies]).sum().sqrt()
            self._put(i, 'updateRatio', update / weight)
            if is_norm(module) and getattr(module, 'weight', None) is not None:
                g = module.weight.detach()
                gvar, gmean = torch.var_mean(g, unbiased=False)
                self._put(i, 'gammaMean', gmean)
                self._put(i, 'gammaStd', gvar.sqrt())
                self._put(i, 'gammaMin', g.min())
                self._put(i, 'gammaMax', g.max())
                if getattr(module, 'bias', None) is not None:
                    self._put(i, 'betaMean', module.bias.detach().mean())
        self.before = {}

    def finish(self):
        """One row-major [layer][stat] list in layer-table order (NaN where a stat does not apply)."""
        row_of = {layer: r for r, layer in enumerate(self.order)}
        checks, self.finite_checks, self.moments = self.finite_checks, [], {}
        if checks:
            finite = torch.isfinite(torch.stack([s2 for _, s2, _ in checks])).tolist()
            for (layer, _, y), ok in zip(checks, finite):
                self._put(layer, 'nonFinite', torch.zeros(()) if ok else y.numel() - torch.isfinite(y).sum())
        values = [float('nan')] * (len(self.order) * len(STAT_NAMES))
        kept = [(layer, col, v) for layer, col, v in self.pending if layer in row_of]
        if kept:
            numbers = torch.stack([v.float().reshape(()) for _, _, v in kept]).tolist()
            for (layer, col, _), number in zip(kept, numbers):
                values[row_of[layer] * len(STAT_NAMES) + col] = number
        for r in range(len(self.order)):
            var = values[r * len(STAT_NAMES) + COL['variance']]
            values[r * len(STAT_NAMES) + COL['std']] = math.sqrt(var) if var >= 0 else float('nan')
        self.pending = []
        return values
