"""normscope.watch's cost in a user's own loop, for test/bench/watch.ts: `python3 watch_bench.py cnn|resnet|ddp
[rounds]`
prints one JSON line.
- cnn: the bench CNN of pytorch_overhead.py (batch 32, Adam), plain vs watch(every=1) vs watch(every=10);
- resnet: kuangliu's CIFAR ResNet-18 (test/fixtures/pytorch/public/pytorch-cifar, batch 32 of 3x32x32, SGD), a
  realistic step, plain vs watch(every=1);
- ddp: one rank of a 2-rank DistributedDataParallel run of the bench CNN (gloo, 1 thread per rank), plain DDP vs the
  watched one at every=1 and every=10 (the ranks combined by one all_gather a sampled step); rank 0 prints.
Plain and watched steps alternate in rounds on copies of one model (each copy with its own optimizer), so machine
noise hits both; ratios are of medians of wall time. The watcher's process-wide patches (the loss's backward) are
taken off during plain rounds so the plain side pays nothing of it."""

import copy
import json
import os
import statistics
import sys
import tempfile
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pytorch_overhead import cnn  # noqa: E402

from normscope.watching import patches, watch  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def step(model, opt, x, y):
    opt.zero_grad()
    F.cross_entropy(model(x), y).backward()
    opt.step()


def rounds(sides, x, y, count, per_round, sync=None):
    """Median ms of a step for each side: {name: (model, optimizer, watcher or None)}."""
    times = {name: [] for name in sides}
    for r in range(count + 2):  # two rounds warm up
        for name, (model, opt, watcher) in sides.items():
            if watcher is None:
                for w in list(patches._open):
                    patches.closed(w)
            else:
                patches.opened(watcher) if watcher not in patches._open else None
            for _ in range(per_round):
                if sync:
                    sync()
                t = time.perf_counter()
                step(model, opt, x, y)
                if r >= 2:
                    times[name].append((time.perf_counter() - t) * 1000)
    return {name: statistics.median(ts) for name, ts in times.items()}


def compare(make, x, y, everys, count, per_round, optimizer, wrap=lambda m: m, sync=None):
    torch.manual_seed(0)
    base = make()
    sides, watchers = {}, []
    with tempfile.TemporaryDirectory(prefix='normscope-watch-bench-') as runs:
        plain = wrap(copy.deepcopy(base))
        sides['plain'] = (plain, optimizer(plain), None)
        for every in everys:
            model = wrap(copy.deepcopy(base))
            opt = optimizer(model)
            w = watch(model, opt, every=every, directory=os.path.join(runs, f'every{every}'), project_root=ROOT)
            watchers.append(w)
            sides[f'every{every}'] = (model, opt, w)
        ms = rounds(sides, x, y, count, per_round, sync)
        for w in watchers:
            patches.opened(w) if w not in patches._open else None
            w.close()
    out = {'plainStepMs': round(ms['plain'], 3)}
    for every in everys:
        out[f'every{every}'] = {
            'stepMs': round(ms[f'every{every}'], 3),
            'overhead': round(ms[f'every{every}'] / ms['plain'], 3),
        }
    return out


def resnet18():
    sys.path.insert(0, os.path.join(ROOT, 'test/fixtures/pytorch/public/pytorch-cifar'))
    from models.resnet import ResNet18

    return ResNet18()


def main():
    mode = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    adam = lambda m: torch.optim.Adam(m.parameters(), 1e-3)  # noqa: E731
    sgd = lambda m: torch.optim.SGD(m.parameters(), 0.01, momentum=0.9)  # noqa: E731
    info = {'torch': torch.__version__, 'threads': torch.get_num_threads()}
    if mode == 'cnn':
        x, y = torch.randn(32, 1, 28, 28), torch.randint(0, 10, (32,))
        out = compare(cnn, x, y, (1, 10), count, 10, adam)
    elif mode == 'resnet':
        x, y = torch.randn(32, 3, 32, 32), torch.randint(0, 10, (32,))
        out = compare(resnet18, x, y, (1,), count, 1, sgd)
    else:
        import torch.distributed as dist
        from torch.nn.parallel import DistributedDataParallel

        torch.set_num_threads(1)
        info['threads'] = 1
        dist.init_process_group('gloo')
        x, y = torch.randn(32, 1, 28, 28), torch.randint(0, 10, (32,))
        out = compare(cnn, x, y, (1, 10), count, 10, adam, wrap=DistributedDataParallel, sync=dist.barrier)
        out['worldSize'] = dist.get_world_size()
        if dist.get_rank() != 0:
            return
    print(json.dumps({**info, **out}))


if __name__ == '__main__':
    main()
