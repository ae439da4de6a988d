"""Parameter statistics of a sampled step for measure.py's Meter: weight, gradient and update norms per layer, and γ/β
of normalization layers, appended to the Meter's list of scalars (Python floats or 0-d tensors read back at once).
With the fused pass (native.py) the weight and gradient norms take two C calls, the weights copied into one flat
buffer on the way, whose difference to the stepped weights gives the update norms in a third; otherwise
`torch._foreach_*` ops (a copy of each weight, subtracted after the step)."""
import torch

from . import features, native


class ParamStats:
    def __init__(self, leaves, fused, is_norm):
        self.leaves, self.fused, self.is_norm = leaves, fused, is_norm
        self.groups = {}  # selection key → (layers, parameters) with gradients, fixed at its first sampled step
        self.key, self.allowed = None, None  # None: every parameter
        self.flat = torch.empty(0)  # fused pass: the weights before the optimizer step, one after the other
        self.flats = {}  # one such buffer per size: a GAN's two optimizers alternate
        self.copies, self.flat_copy = None, False

    def select(self, key, allowed):
        """Measure only the parameters whose ids are in `allowed` (a script step's optimizer trains them; the other
        models' weights stay NaN, "not measured", as in tfjs); `key` names that selection."""
        self.key, self.allowed = key, allowed

    def _param_groups(self):
        groups = self.groups.get(self.key)
        if groups is None:
            layers, params = [], []
            for i, (_, m) in enumerate(self.leaves):
                # A parametrized layer (torch 2.x weight_norm) keeps its weight in parametrizations.weight.original0/1.
                ps = [p for p in m.parameters(recurse=features.is_parametrized(m))
                      if p.requires_grad and (self.allowed is None or id(p) in self.allowed)]
                if ps:
                    layers.append((i, len(params), len(ps)))
                    params.extend(ps)
            groups = self.groups[self.key] = layers, params
        return groups

    def after_backward(self, scalars, recs):
        """Weight and gradient norms, and a copy of the weights for the update norm."""
        self.copies, self.flat_copy = None, False
        layers, params = self._param_groups()
        if not params:
            return
        has_grad = [p.grad is not None for p in params]
        grads = [p.grad for p, ok in zip(params, has_grad) if ok]
        w, g = len(scalars), len(scalars) + len(params)
        with torch.no_grad():
            norms = self._fused_norms(params, grads)
            if norms is not None:
                scalars.extend(norms)
            else:
                scalars.extend(torch._foreach_norm(params))
                scalars.extend(torch._foreach_norm(grads))
                self.copies = torch._foreach_mul(params, 1.0)
        grad_slot, k = [], g
        for ok in has_grad:
            grad_slot.append(k if ok else None)
            k += ok
        for i, start, count in layers:
            rec = recs.setdefault(i, {})
            rec['w'] = list(range(w + start, w + start + count))
            rec['g'] = [s for s in grad_slot[start:start + count] if s is not None]

    def _fused_norms(self, params, grads):
        """Weight then gradient norms by the fused pass, the weights copied into self.flat; None when it cannot take them."""
        if self.fused is None or not all(map(native.usable, params)) or not all(map(native.usable, grads)):
            return None
        total = sum(p.numel() for p in params)
        if self.flat.numel() != total:
            self.flat = self.flats.get(total)
            if self.flat is None:
                self.flat = self.flats[total] = torch.empty(total)
        w = self.fused.norms(params, copy=self.flat)
        g = self.fused.norms(grads) if w is not None else None
        self.flat_copy = g is not None
        return w + g if g is not None else None

    def _update_norms(self, params):
        """Norms of the step's change of each parameter, from the flat copy."""
        norms = self.fused.norms(params, base=self.flat)
        if norms is None:  # non-finite: torch ops on views of the copy
            norms, offset = [], 0
            for p in params:
                norms.append(torch.linalg.vector_norm(p - self.flat[offset:offset + p.numel()].view_as(p)))
                offset += p.numel()
        return norms

    def after_step(self, scalars, recs):
        layers, params = self._param_groups()
        with torch.no_grad():
            norms = self._update_norms(params) if self.flat_copy else None
            if self.copies is not None:
                torch._foreach_sub_(self.copies, params)
                norms = torch._foreach_norm(self.copies)
            if norms is not None:
                u = len(scalars)
                scalars.extend(norms)
                for i, start, count in layers:
                    recs[i]['u'] = list(range(u + start, u + start + count))
            for i, _, _ in layers:
                module = self.leaves[i][1]
                if self.is_norm(module) and getattr(module, 'weight', None) is not None:
                    gvar, gmean = torch.var_mean(module.weight, unbiased=False)
                    gmin, gmax = torch.aminmax(module.weight)
                    base = len(scalars)
                    scalars.extend((gmean, gvar, gmin, gmax))
                    recs[i]['gamma'] = range(base, base + 4)
                    if getattr(module, 'bias', None) is not None:
                        recs[i]['beta'] = len(scalars)
                        scalars.append(module.bias.mean())
        self.copies, self.flat_copy = None, False
