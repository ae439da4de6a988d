"""Parameter statistics of a sampled step for meter.py's Meter: weight, gradient and update norms per layer, and γ/β
of normalization layers, in slots of the step's buffer (step_buffer.py).
With the fused pass (native.py) the weight and gradient norms take one C call, the weights copied into one flat
buffer on the way, whose difference to the stepped weights gives the update norms in a second; γ/β take one call
each. The parameter list, its addresses and sizes are kept between steps (the optimizer updates them in place).
Otherwise `torch._foreach_*` ops (a copy of each weight, subtracted after the step) and torch reductions."""

import ctypes

import torch

from . import native
from .stats_math import P_BETA, P_G, P_G_N, P_GAMMA, P_U, P_U_N, P_W, P_W_N, K


class _Group:
    """The measured parameters of one selection, in layer order, and what the fused pass needs of them."""

    def __init__(self, layers, params):
        self.layers, self.params = layers, params  # layers: (layer, first parameter, count)
        self.usable = all(map(native.usable, params))
        self.flat = torch.empty(sum(p.numel() for p in params))  # the weights before the optimizer step
        lens = [p.numel() for p in params]
        self.lens, self.lens2 = (ctypes.c_int64 * len(lens))(*lens), (ctypes.c_int64 * (2 * len(lens)))(*lens, *lens)
        self.ptrs, self.ptr_list = None, None

    def param_ptrs(self):
        ptrs = [p.data_ptr() for p in self.params]
        if ptrs != self.ptr_list:  # a parameter replaced (not updated in place) since the last step
            self.ptr_list, self.ptrs = ptrs, (ctypes.c_int64 * len(ptrs))(*ptrs)
        return self.ptrs


def _affine(module):
    """A norm layer's (weight, bias): from its parameter table when they are plain parameters (nn.Module.__getattr__
    is a Python call), else by attribute (a parametrized or computed weight)."""
    params = module.__dict__.get('_parameters')
    if params is not None and 'weight' in params and 'bias' in params:
        return params['weight'], params['bias']
    return getattr(module, 'weight', None), getattr(module, 'bias', None)


class ParamStats:
    def __init__(self, leaves, fused, is_norm, hooks, params_of):
        self.leaves, self.fused = leaves, fused
        self.params_of = params_of  # row → the parameters it owns (Meter.row_parameters)
        self.hooks = hooks  # the compiled module: the same calls without Python loops (hooks_params.c)
        self.norm_layers = [i for i, (_, m) in enumerate(leaves) if is_norm(m)]
        self.groups = {}  # selection key → _Group, fixed at its first sampled step
        self.key, self.allowed = None, None  # None: every parameter
        self.copies, self.flat_copy = None, None

    def select(self, key, allowed):
        """Measure only the parameters whose ids are in `allowed` (a script step's optimizer trains them; the other
        models' weights stay NaN, "not measured", as in tfjs); `key` names that selection."""
        self.key, self.allowed = key, allowed

    def _group(self):
        group = self.groups.get(self.key)
        if group is None:
            layers, params = [], []
            for i in range(len(self.leaves)):
                ps = [
                    p for p in self.params_of(i) if p.requires_grad and (self.allowed is None or id(p) in self.allowed)
                ]
                if ps:
                    layers.append((i, len(params), len(ps)))
                    params.extend(ps)
            group = self.groups[self.key] = _Group(layers, params)
        return group

    def after_backward(self, buf, plan):
        """Weight and gradient norms, and a copy of the weights for the update norm."""
        self.copies, self.flat_copy = None, None
        group = self._group()
        params = group.params
        if not params:
            return
        n = len(params)
        grads = [p.grad for p in params]
        w = buf.take(2 * n)  # weight norms, then gradient norms
        with torch.no_grad():
            if self._fused_norms(group, grads, buf.address(w)):
                self.flat_copy = group
            else:  # torch ops; a layer's present gradients get consecutive slots of their own
                for k, norm in enumerate(torch._foreach_norm(params)):
                    buf.put(w + k, norm)
                self.copies = torch._foreach_mul(params, 1.0)
                packed = {
                    i: self._torch_grad_norms(buf, grads[start : start + count]) for i, start, count in group.layers
                }
        for i, start, count in group.layers:
            plan[i * K + P_W], plan[i * K + P_W_N] = w + start, count
            plan[i * K + P_G], plan[i * K + P_G_N] = (w + n + start, count) if self.flat_copy is group else packed[i]

    def _fused_norms(self, group, grads, out):
        """Weight then gradient norms at address `out`, the weights copied into group.flat; False: not done."""
        if self.fused is None or not group.usable:
            return False
        if self.hooks is not None:
            return self.hooks.norms(group.params + grads, out, None, group.flat, len(grads))
        if not all(g is not None and native.usable(g) for g in grads):
            return False
        n = len(grads)
        ptrs = (ctypes.c_int64 * (2 * n))(*group.param_ptrs(), *[g.data_ptr() for g in grads])
        self.fused.many(ptrs, group.lens2, 2 * n, out, copy=group.flat, ncopy=n)
        return True

    @staticmethod
    def _torch_grad_norms(buf, grads):
        """(first slot, count) of the norms of the gradients that are there."""
        present = [g for g in grads if g is not None]
        if not present:
            return -1, 0
        first = buf.take(len(present))
        for k, norm in enumerate(torch._foreach_norm(present)):
            buf.put(first + k, norm)
        return first, len(present)

    def after_step(self, buf, plan):
        group = self._group()
        with torch.no_grad():
            if group.params and (self.flat_copy is group or self.copies is not None):
                u = buf.take(len(group.params))
                done = True
                if self.flat_copy is not group:
                    torch._foreach_sub_(self.copies, group.params)  # pyright: ignore[reportCallIssue]
                    for k, n in enumerate(torch._foreach_norm(self.copies)):
                        buf.put(u + k, n)
                elif self.hooks is not None:  # False: a parameter no longer usable by the fused pass (not measured)
                    done = self.hooks.norms(group.params, buf.address(u), group.flat)
                else:
                    self.fused.many(group.param_ptrs(), group.lens, len(group.params), buf.address(u), base=group.flat)
                for i, start, count in group.layers if done else ():
                    plan[i * K + P_U], plan[i * K + P_U_N] = u + start, count
            for i in self.norm_layers:
                weight, bias = _affine(self.leaves[i][1])
                if isinstance(weight, torch.Tensor) and (self.allowed is None or id(weight) in self.allowed):
                    plan[i * K + P_GAMMA] = self._describe(weight, buf)
                    if isinstance(bias, torch.Tensor):
                        plan[i * K + P_BETA] = self._describe(bias, buf)
        self.copies, self.flat_copy = None, None

    def _describe(self, t, buf):
        """The first of PARAM slots holding a parameter's (γ's, β's) mean, variance, min and max."""
        base = buf.take(native.PARAM)
        if self.hooks is not None and self.hooks.moments(t, buf.address(base)):
            return base
        t = t.detach()
        if self.fused is not None and native.usable(t):
            self.fused.param(t, buf.address(base))
        else:
            var, mean = torch.var_mean(t, unbiased=False)
            lo, hi = torch.aminmax(t)
            for k, v in enumerate((mean, var, lo, hi)):
                buf.put(base + k, v)
        return base
