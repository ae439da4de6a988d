"""The engine's fast Meter (python/normscope/measuring/meter.py) against the straightforward computation of every
statistic (float64 torch ops on each layer's own tensors) on training steps of the networks of pytorch_meter_nets.py:
Net has what the fast path shortcuts around (a Flatten view, a ReLU and a pool called twice, an in-place residual add
after a BatchNorm, BatchNorm1d/2d, LayerNorm, Tanh, Sigmoid, an Identity (output = input), a user's own tensor hook);
FunctionalNet has functional activations in every watched form (functional.py), a MultiheadAttention and a block
with its own parameter. During each step the loss function also calls the model under no_grad (an evaluation: not
measured) and a deep copy of it (an EMA model: not measured). Its rows must be exactly the reference's, by name (a
relu on a parameter or a tanh of a formula is no row), and the model must pickle (torch.save, copy.deepcopy) without
NormScope's hooks. The Meter uses the fused C pass (native.py) when it loads, else torch ops (NORMSCOPE_NO_NATIVE=1,
or no compiler), and the compiled hooks (hooks.c) when Python's headers are there too (not with NORMSCOPE_NO_HOOKS=1).
Prints one JSON line: {"mismatches": [...], "compared": n, "fused": whether the fused pass measured, "compiled":
whether the compiled hooks did, "headers": whether Python's headers were found, "compiler": whether one was found,
"nonFiniteMismatches": where the fused pass and torch ops disagree on tensors holding NaN/Inf (null without the fused
pass)}."""

import copy
import io
import json
import math
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
from pytorch_meter_nets import RECORD, FunctionalNet, Gate, Net

from normscope.engine.run import train_step
from normscope.measuring import creation, native
from normscope.measuring.layers import measured_modules
from normscope.measuring.meter import (
    ACTIVATIONS,
    BN_TYPES,
    SIGMOID_SATURATION,
    STAT_NAMES,
    TANH_SATURATION,
    Meter,
    is_norm,
)
from normscope.measuring.pickling import is_ours
from normscope.measuring.stats_math import BAD_COUNT, DEAD_COUNT, HI, LO, NON_ZERO, NORM, SUM
from normscope.measuring.torch_path import channel_max

ACTIVATION_OF = {
    'relu': 'relu',
    'relu6': 'relu6',
    'tanh': 'tanh',
    'sigmoid': 'sigmoid',
    'leaky_relu': 'leakyrelu',
    'gelu': 'gelu',
}


def layers(model):
    """The modules the reference measures, written out: leaves, and the two kinds that compute with their own
    parameters."""
    return [
        (n, m)
        for n, m in model.named_modules()
        if not any(True for _ in m.children()) or isinstance(m, (nn.MultiheadAttention, Gate))
    ]


def own_parameters(m):
    """A layer's parameters: its own; MultiheadAttention also its out_proj's (read directly, never called)."""
    return list(m.parameters(recurse=False)) + (
        list(m.out_proj.parameters()) if isinstance(m, nn.MultiheadAttention) else []
    )


def output_stats(s, out, inp, act):
    """The activation statistics of one output (and its input, for the gain)."""
    out, inp = out.detach().double(), inp.detach().double()
    var, mean = torch.var_mean(out, unbiased=False)
    s.update(
        mean=mean,
        variance=var,
        std=var.sqrt(),
        min=out.min(),
        max=out.max(),
        zeroFraction=(out == 0).double().mean(),
        gain=var.sqrt() / torch.var(inp, unbiased=False).sqrt(),
        nonFinite=out.numel() - torch.isfinite(out).sum(),
    )
    if act in ('relu', 'relu6'):
        channels = (
            out.transpose(0, 1).reshape(out.shape[1], -1) if out.dim() >= 4 else out.reshape(-1, out.shape[-1]).t()
        )
        s['deadFraction'] = (channels.max(dim=1).values <= 0).double().mean()
    if act == 'tanh':
        s['saturatedFraction'] = (out.abs() >= TANH_SATURATION).double().mean()
    if act == 'sigmoid':
        s['saturatedFraction'] = ((out - 0.5).abs() >= SIGMOID_SATURATION).double().mean()


def reference(model, x, y, names):
    """{row name: {stat: value}} of one step, each statistic computed directly (a module called twice: last call)."""
    stats = {}

    def forward_hook(module, inputs, output):
        if not torch.is_grad_enabled():
            return
        s = stats.setdefault(names[module], {})
        output = output[0] if isinstance(output, tuple) else output
        output_stats(s, output, inputs[0], ACTIVATIONS.get(type(module)))
        if isinstance(module, BN_TYPES):
            inp = inputs[0].detach().double()
            dims = [d for d in range(inp.dim()) if d != 1]
            bvar, bmean = torch.var_mean(inp, dim=dims, unbiased=False)
            # the running statistics without what is left of their initial 0 and 1 after k updates, (1 − momentum)^k
            k = int(module.num_batches_tracked)
            keep = (1 - module.momentum) ** k
            rmean, rvar = module.running_mean.double() / (1 - keep), (module.running_var.double() - keep) / (1 - keep)
            s['movingMeanGap'] = ((rmean - bmean).abs() / (bvar + module.eps).sqrt()).mean()
            s['movingVarGap'] = ((rvar - bvar).abs() / (bvar + module.eps)).mean()
            s['movingUpdates'] = k
        output.register_hook(lambda g: s.update(activationGradNorm=g.double().norm()))

    handles = [m.register_forward_hook(forward_hook) for _, m in layers(model)]
    optimizer = torch.optim.Adam(model.parameters(), 1e-2)
    optimizer.zero_grad()
    RECORD.update(on=True, calls={})
    try:
        out = model(x)
    finally:
        RECORD['on'] = False
    for name, (inp, act_out, inplace) in RECORD['calls'].items():
        s = stats.setdefault(name, {})
        output_stats(s, act_out, inp, ACTIVATION_OF[name.rpartition('.')[2].split('@')[0]])
        record = lambda g, s=s: s.update(activationGradNorm=g.double().norm())  # noqa: E731
        if inplace:  # the gradient into the in-place op's output: its node's
            act_out.grad_fn.register_hook(lambda _, grad_out, record=record: record(grad_out[0]))
        else:
            act_out.register_hook(record)
    F.cross_entropy(out, y).backward()
    before = {n: [p.detach().double().clone() for p in own_parameters(m)] for n, m in layers(model)}
    grads = {n: [p.grad.double() for p in own_parameters(m)] for n, m in layers(model)}
    optimizer.step()
    for n, m in layers(model):
        if not before[n] or names[m] not in stats:  # MultiheadAttention's out_proj never runs
            continue
        s, norm = stats[names[m]], lambda ts: torch.stack([t.norm() for t in ts]).norm()
        s.update(
            weightNorm=norm(before[n]),
            gradNorm=norm(grads[n]),
            updateNorm=norm([p.detach().double() - b for p, b in zip(own_parameters(m), before[n])]),
        )
        s['updateRatio'] = s['updateNorm'] / s['weightNorm']
        if is_norm(m):
            g = m.weight.detach().double()
            s.update(
                gammaMean=g.mean(),
                gammaStd=g.std(unbiased=False),
                gammaMin=g.min(),
                gammaMax=g.max(),
                betaMean=m.bias.detach().double().mean(),
            )
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
            fused_dead = (
                vals[fused.base + DEAD_COUNT]
                if len(shape) == 4
                else vals[fused.cols + 3 * shape[-1]]
                if len(shape) == 2
                else None
            )
            if fused_dead is not None and fused_dead != vals[dead]:
                mismatches.append(
                    {'value': repr(v), 'shape': shape, 'slot': 'dead', 'fused': fused_dead, 'torch': vals[dead]}
                )
    return mismatches


def _pickles(model):
    """Mismatches if the measured model does not pickle, or its copy keeps NormScope's hooks (the user's stay)."""
    try:
        torch.save(model, io.BytesIO())
    except Exception as e:  # noqa: BLE001 - reported as a mismatch
        return [{'pickle': f'torch.save failed: {e}'}]
    copied = copy.deepcopy(model)
    kept = [n for n, m in copied.named_modules() for h in m._forward_hooks.values() if is_ours(h)]
    return [{'pickle': f'copy.deepcopy kept NormScope hooks on {kept}'}] if kept else []


def check_net(net, x, y):
    """(mismatches, statistics compared, meter) over three steps of `net`."""
    model = net
    twin = copy.deepcopy(model)
    meter = Meter(measured_modules(model), [(None, model)])
    names = {m: n for n, m in measured_modules(twin)}
    mismatches = _pickles(model)
    ema = copy.deepcopy(model)  # an EMA model: a copy, its calls are not measured

    def loss_and_evaluations(out, target):
        with torch.no_grad():
            ema(x * 3)
            model.eval()
            model(x[:2] * 3)  # an evaluation forward (minGPT's in a training step): no part of the step, not measured
            model.train()
        return F.cross_entropy(out, target)

    compared = 0
    for step in range(3):  # the first sampled step learns which layers feed a BatchNorm; later ones use that
        expected = reference(twin, x, y, names)
        _, values = train_step(model, torch.optim.Adam(model.parameters(), 1e-2), loss_and_evaluations, x, y, meter)
        rows = [
            meter.leaves[i][0] if i < len(meter.leaves) else meter.sites[i - len(meter.leaves)].name
            for i in meter.order
        ]
        if sorted(rows) != sorted(expected):
            mismatches.append({'step': step, 'rows': rows, 'reference rows': sorted(expected)})
        for row, name in enumerate(rows):
            for col, stat in enumerate(STAT_NAMES):
                got, want = values[row * len(STAT_NAMES) + col], expected.get(name, {}).get(stat, math.nan)
                if math.isnan(want) and math.isnan(got):
                    continue
                compared += 1
                if not math.isclose(got, want, rel_tol=1e-4, abs_tol=1e-6):
                    mismatches.append({'step': step, 'layer': name, 'stat': stat, 'fast': got, 'reference': want})
    return mismatches, compared, meter


def main():
    torch.manual_seed(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
    creation.install(__file__)  # the networks' file is the user's: functional rows are named by its lines
    x, y = torch.randn(8, 3, 16, 16), torch.randint(0, 4, (8,))
    mismatches, compared, meter = check_net(Net(), x, y)
    more, more_compared, _ = check_net(FunctionalNet(), x, y)
    mismatches += more
    compared += more_compared
    non_finite = _non_finite_agreement(meter) if meter.fused is not None else None
    print(
        json.dumps(
            {
                'mismatches': mismatches,
                'compared': compared,
                'fused': meter.fused is not None,
                'compiled': meter.compiled,
                'headers': native._python_headers() is not None,
                'compiler': native.compiler() is not None,
                'nonFiniteMismatches': non_finite,
            }
        )
    )


if __name__ == '__main__':
    main()
