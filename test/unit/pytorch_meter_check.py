"""The engine's fast Meter (python/normscope_engine/measure.py) against the straightforward computation of every
statistic (float64 torch ops on each layer's own tensors) on one training step of a small network that has what
the fast path shortcuts around: a Flatten view, a ReLU and a pool called twice, an in-place residual add after a
BatchNorm, BatchNorm1d/2d, LayerNorm, Tanh, Sigmoid, an Identity (output = input), a user's own tensor hook, a deep
copy of the model (keeping the hooks) called during the step. The
Meter uses the fused C pass (native.py) when it loads, else torch ops (NORMSCOPE_NO_NATIVE=1, or no compiler), and
the compiled hooks (hooks.c) when Python's headers are there too (not with NORMSCOPE_NO_HOOKS=1). Prints one JSON
line: {"mismatches": [...], "compared": n, "fused": whether the fused pass measured, "compiled": whether the compiled
hooks did, "headers": whether Python's headers were found, "compiler": whether one was found, "nonFiniteMismatches": where the fused
pass and torch ops disagree on tensors holding NaN/Inf (null without the fused pass)}."""
import copy
import json
import math
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

from normscope_engine import native
from normscope_engine.measure import ACTIVATIONS, BN_TYPES, GAP_EPSILON, SIGMOID_SATURATION, STAT_NAMES, TANH_SATURATION, Meter, is_norm
from normscope_engine.torch_path import channel_max
from normscope_engine.stats_math import BAD_COUNT, DEAD_COUNT, HI, LO, NON_ZERO, NORM, SUM
from normscope_engine.run import train_step


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1, self.bn1, self.relu, self.pool = nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2)
        self.conv2, self.bn2, self.flat, self.same = nn.Conv2d(8, 8, 3, padding=1), nn.BatchNorm2d(8), nn.Flatten(), nn.Identity()
        self.fc1, self.ln, self.tanh = nn.Linear(8 * 4 * 4, 32), nn.LayerNorm(32), nn.Tanh()
        self.fc2, self.bn3, self.sig, self.fc3 = nn.Linear(32, 16), nn.BatchNorm1d(16), nn.Sigmoid(), nn.Linear(16, 4)

    def forward(self, x):
        x = self.pool(self.relu(self.bn1(self.conv1(x))))
        r = x
        x = self.bn2(self.conv2(x))
        x += r  # in place, after bn2's hook measured its output
        x = self.pool(self.relu(x))
        x = self.fc1(self.same(self.flat(x)))  # Identity: its output is its input, already hooked by Flatten's hook
        if x.requires_grad:  # the user's own hook on a hooked output (its handle takes a weak reference)
            x.register_hook(lambda g: None)
        x = self.tanh(self.ln(x))
        return self.fc3(self.sig(self.bn3(self.fc2(x))))


def leaves(model):
    return [(n, m) for n, m in model.named_modules() if not any(True for _ in m.children())]


def reference(model, x, y):
    """{layer name: {stat: value}} of one step, each statistic computed directly (a module called twice: last call)."""
    stats, names = {}, {m: n for n, m in leaves(model)}

    def forward_hook(module, inputs, output):
        s = stats.setdefault(names[module], {})
        out, inp = output.detach().double(), inputs[0].detach().double()
        var, mean = torch.var_mean(out, unbiased=False)
        s.update(mean=mean, variance=var, std=var.sqrt(), min=out.min(), max=out.max(), zeroFraction=(out == 0).double().mean(),
                 gain=var.sqrt() / torch.var(inp, unbiased=False).sqrt(), nonFinite=out.numel() - torch.isfinite(out).sum())
        act = ACTIVATIONS.get(type(module))
        if act == 'relu':
            channels = out.transpose(0, 1).reshape(out.shape[1], -1) if out.dim() >= 4 else out.reshape(-1, out.shape[-1]).t()
            s['deadFraction'] = (channels.max(dim=1).values <= 0).double().mean()
        if act == 'tanh':
            s['saturatedFraction'] = (out.abs() >= TANH_SATURATION).double().mean()
        if act == 'sigmoid':
            s['saturatedFraction'] = ((out - 0.5).abs() >= SIGMOID_SATURATION).double().mean()
        if isinstance(module, BN_TYPES):
            dims = [d for d in range(inp.dim()) if d != 1]
            bvar, bmean = torch.var_mean(inp, dim=dims, unbiased=False)
            s['movingMeanGap'] = ((module.running_mean.double() - bmean).abs() / (bvar + GAP_EPSILON).sqrt()).mean()
            s['movingVarGap'] = ((module.running_var.double() - bvar).abs() / (bvar + GAP_EPSILON)).mean()
        output.register_hook(lambda g: s.update(activationGradNorm=g.double().norm()))

    handles = [m.register_forward_hook(forward_hook) for _, m in leaves(model)]
    optimizer = torch.optim.Adam(model.parameters(), 1e-2)
    optimizer.zero_grad()
    F.cross_entropy(model(x), y).backward()
    before = {n: [p.detach().double().clone() for p in m.parameters(recurse=False)] for n, m in leaves(model)}
    grads = {n: [p.grad.double() for p in m.parameters(recurse=False)] for n, m in leaves(model)}
    optimizer.step()
    for n, m in leaves(model):
        if not before[n]:
            continue
        s, norm = stats[n], lambda ts: torch.stack([t.norm() for t in ts]).norm()
        s.update(weightNorm=norm(before[n]), gradNorm=norm(grads[n]),
                 updateNorm=norm([p.detach().double() - b for p, b in zip(m.parameters(recurse=False), before[n])]))
        s['updateRatio'] = s['updateNorm'] / s['weightNorm']
        if is_norm(m):
            g = m.weight.detach().double()
            s.update(gammaMean=g.mean(), gammaStd=g.std(unbiased=False), gammaMin=g.min(), gammaMax=g.max(), betaMean=m.bias.detach().double().mean())
    for h in handles:
        h.remove()
    return {n: {k: float(v) for k, v in s.items()} for n, s in stats.items()}


def _non_finite_agreement(meter):
    """The fused pass and torch ops give the same reductions for tensors holding NaN, ±Inf or float-overflowing
    squares, on flat, row and column paths (a NaN makes min, max and its channel's maximum NaN, so not dead)."""
    mismatches = []
    for v in (math.nan, math.inf, -math.inf, 1e30):
        for shape in ((2, 3, 4, 5), (6, 7), (4, 3, 2, 1)):
            bad = -torch.ones(*shape)
            bad.view(-1)[7] = v
            fused = meter._fused_moments(bad, None, None, len(shape) == 4, len(shape) == 2)
            torch_ops = meter._torch_moments(bad, True, None, None)
            dead = meter.buffer.push((channel_max(bad) <= 0).sum())
            vals = meter.buffer.read()
            for k in (SUM, NORM, LO, HI, NON_ZERO, BAD_COUNT):
                a, b = vals[fused.base + k], vals[torch_ops.base + k]
                if not (a == b or math.isnan(a) and math.isnan(b) or math.isclose(a, b, rel_tol=1e-5)):
                    mismatches.append({'value': repr(v), 'shape': shape, 'slot': k, 'fused': a, 'torch': b})
            fused_dead = vals[fused.base + DEAD_COUNT] if len(shape) == 4 else vals[fused.cols + 3 * shape[-1]] if len(shape) == 2 else None
            if fused_dead is not None and fused_dead != vals[dead]:
                mismatches.append({'value': repr(v), 'shape': shape, 'slot': 'dead', 'fused': fused_dead, 'torch': vals[dead]})
    return mismatches


def main():
    torch.manual_seed(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
    model = Net()
    twin = copy.deepcopy(model)
    meter = Meter(leaves(model))
    x, y = torch.randn(8, 3, 16, 16), torch.randint(0, 4, (8,))
    ema = copy.deepcopy(model)  # copied with the Meter's hooks, as a script's EMA model is: its calls are not measured

    def loss_and_ema(out, target):
        with torch.no_grad():
            ema(x * 3)
        return F.cross_entropy(out, target)
    values = []
    mismatches, compared = [], 0
    for step in range(3):  # the first sampled step learns which layers feed a BatchNorm; later ones use that
        expected = reference(twin, x, y)
        _, values = train_step(model, torch.optim.Adam(model.parameters(), 1e-2), loss_and_ema, x, y, meter)
        for row, i in enumerate(meter.order):
            name = meter.leaves[i][0]
            for col, stat in enumerate(STAT_NAMES):
                got, want = values[row * len(STAT_NAMES) + col], expected[name].get(stat, math.nan)
                if math.isnan(want) and math.isnan(got):
                    continue
                compared += 1
                if not math.isclose(got, want, rel_tol=1e-4, abs_tol=1e-6):
                    mismatches.append({'step': step, 'layer': name, 'stat': stat, 'fast': got, 'reference': want})
    non_finite = _non_finite_agreement(meter) if meter.fused is not None else None
    print(json.dumps({'mismatches': mismatches, 'compared': compared, 'fused': meter.fused is not None, 'compiled': meter.compiled,
                      'headers': native._python_headers() is not None, 'compiler': native.compiler() is not None,
                      'nonFiniteMismatches': non_finite}))


if __name__ == '__main__':
    main()
