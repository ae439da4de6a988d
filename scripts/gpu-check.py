"""The GPU check of normscope.watch (issue 23), for a machine with CUDA: `PYTHONPATH=python python3 scripts/gpu-check.py`.
Prints one JSON line: whether the device path holds there, and what watching costs.
- syncs: host reads of CUDA tensors (Tensor.item/.tolist/float(t)…) per sampled step of a 20-layer CNN and of a
  50-layer one: the statistics are reduced on the device into 0-d tensors and copied to the host together, so the count
  is the same for both depths (one copy of the step's buffer and the loss), never one per layer;
- values: the watched statistics of one step against the direct computation on the device (a ReLU's mean, variance,
  max, zero and dead fractions) — the device path computes what the CPU path does;
- overhead: CUDA step time (torch.cuda.synchronize around each step) plain vs watch(every=1) vs watch(every=10) for
  the bench CNN and for kuangliu's CIFAR ResNet-18 (test/fixtures/pytorch/public/pytorch-cifar), medians of alternating
  rounds; `identical`: the watched run's losses equal the plain run's bit for bit."""
import copy
import json
import os
import statistics
import sys
import tempfile
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'python'))
sys.path.insert(0, os.path.join(ROOT, 'test/fixtures/pytorch/public/pytorch-cifar'))
from normscope.watching import patches, watch  # noqa: E402

DEVICE = torch.device('cuda')
READS = ('item', 'tolist', '__float__', '__int__', '__bool__', 'numpy')


def deep(blocks):
    layers = [nn.Conv2d(3, 16, 3, padding=1)]
    for _ in range(blocks):
        layers += [nn.Conv2d(16, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU()]
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(16 * 16 * 16, 10))


def step(model, opt, x, y):
    opt.zero_grad()
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    return loss


def syncs(blocks, folder, steps=5):
    torch.manual_seed(0)
    model = deep(blocks).to(DEVICE)
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    x, y = torch.randn(32, 3, 16, 16, device=DEVICE), torch.randint(0, 10, (32,), device=DEVICE)
    w = watch(model, opt, directory=folder, project_root=ROOT)
    step(model, opt, x, y)
    count, saved = [0], {name: getattr(torch.Tensor, name) for name in READS}

    def counting(original):
        def read(t, *a, **k):
            count[0] += t.is_cuda
            return original(t, *a, **k)
        return read
    for name, original in saved.items():
        setattr(torch.Tensor, name, counting(original))
    try:
        for _ in range(steps):
            step(model, opt, x, y)
    finally:
        for name, original in saved.items():
            setattr(torch.Tensor, name, original)
    w.close()
    return count[0] / steps


def timed(make, x, y, count, everys, runs):
    torch.manual_seed(0)
    base = make().to(DEVICE)
    sides = {'plain': (copy.deepcopy(base), None)}
    for every in everys:
        sides[f'every{every}'] = (copy.deepcopy(base), every)
    opts, watchers, times, losses = {}, {}, {k: [] for k in sides}, {k: [] for k in sides}
    for name, (model, every) in sides.items():
        opts[name] = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        if every:
            watchers[name] = watch(model, opts[name], every=every, directory=os.path.join(runs, name), project_root=ROOT)
    for r in range(count + 2):
        for name, (model, _) in sides.items():
            w = watchers.get(name)
            for other in list(patches._open):
                patches.closed(other)
            if w is not None:
                patches.opened(w)
            for _ in range(5):
                torch.cuda.synchronize()
                t = time.perf_counter()
                loss = step(model, opts[name], x, y)
                torch.cuda.synchronize()
                if r >= 2:
                    times[name].append((time.perf_counter() - t) * 1000)
                losses[name].append(loss.detach())
    for w in watchers.values():
        if w not in patches._open:
            patches.opened(w)
        w.close()
    plain = statistics.median(times['plain'])
    out = {'plainStepMs': round(plain, 3)}
    for name in watchers:
        same = all(torch.equal(a, b) for a, b in zip(losses[name], losses['plain']))
        out[name] = {'stepMs': round(statistics.median(times[name]), 3), 'overhead': round(statistics.median(times[name]) / plain, 3), 'identical': same}
    return out


def values(folder):
    torch.manual_seed(0)
    model = deep(2).to(DEVICE)
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    kept = {}
    model[3].register_forward_hook(lambda m, i, o: kept.__setitem__('relu', o.detach().clone()))
    x, y = torch.randn(32, 3, 16, 16, device=DEVICE), torch.randint(0, 10, (32,), device=DEVICE)
    with watch(model, opt, directory=folder, project_root=ROOT) as w:
        step(model, opt, x, y)
        row = w.meter.order.index(3)
    sys.path.insert(0, os.path.join(ROOT, 'test/python'))
    from watch_log import read_log
    log = read_log(folder)
    names = log['run']['statNames']
    got = log['samples'][0]['values'][row * len(names):(row + 1) * len(names)]
    relu = kept['relu'].double()
    want = {'mean': relu.mean().item(), 'variance': relu.var(unbiased=False).item(), 'max': relu.max().item(),
            'zeroFraction': (relu == 0).double().mean().item(), 'deadFraction': (relu.amax(dim=(0, 2, 3)) <= 0).double().mean().item()}
    return {k: {'watched': got[names.index(k)], 'direct': v} for k, v in want.items()}


def main():
    if not torch.cuda.is_available():
        print(json.dumps({'skipped': 'no CUDA device'}))
        return
    from models.resnet import ResNet18
    from pytorch_overhead import cnn
    with tempfile.TemporaryDirectory() as runs:
        out = {'device': torch.cuda.get_device_name(), 'torch': torch.__version__,
               'syncs': {'20 layers': syncs(6, os.path.join(runs, 's6')), '50 layers': syncs(16, os.path.join(runs, 's16'))},
               'values': values(os.path.join(runs, 'values'))}
        out['cnn'] = timed(cnn, torch.randn(32, 1, 28, 28, device=DEVICE), torch.randint(0, 10, (32,), device=DEVICE), 20, (1, 10), runs)
        out['resnet18'] = timed(ResNet18, torch.randn(128, 3, 32, 32, device=DEVICE), torch.randint(0, 10, (128,), device=DEVICE), 10, (1, 10), runs)
    print(json.dumps(out))


if __name__ == '__main__':
    sys.path.insert(0, os.path.join(ROOT, 'test/bench'))
    main()
