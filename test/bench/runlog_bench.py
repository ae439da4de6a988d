"""The run-log writer's costs (python/normscope/runlog/writer.py), for test/bench/runlog.ts: `python3 runlog_bench.py`
prints one JSON line.
- writer: microseconds per sampled step at 10, 100 and 500 layers (the events by numpy where it is there, else by the
  loop), and per loss-only step;
- mlp: a 100,000-step MLP run measured every 10 steps as normscope.watch measures it (the engine's Meter), the folder's
  bytes and the process's resident memory at 10k, 50k and 100k steps (flat: the writer keeps no samples);
- wide: 20,000 sampled steps of 500 layers (880 MB through the writer): the folder stays within its budget, and the
  slowest step (one that rewrites the history at a doubled stride)."""

import json
import math
import os
import random
import shutil
import sys
import tempfile
import time

from normscope.measuring.stats_math import STAT_NAMES
from normscope.runlog import policy as runlog_policy
from normscope.runlog.writer import RunLogWriter

W = len(STAT_NAMES)


def rss_mb():
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE') / 2**20


def folder_bytes(path):
    return sum(os.path.getsize(os.path.join(path, f)) for f in os.listdir(path))


def layers(n):
    return [
        {
            'index': i,
            'name': f'l{i}',
            'className': 'ReLU' if i % 2 else 'Linear',
            'outputShape': [None, 64],
            'paramCount': 0 if i % 2 else 4160,
            'isNorm': False,
            'source': {'file': '/project/model.py', 'line': 10 + i, 'column': 9},
        }
        for i in range(n)
    ]


def row_values(n, rng):
    out = []
    for i in range(n):
        row = [math.nan] * W
        row[:6] = [rng.gauss(0, 0.1), 1 + 0.1 * rng.random(), 1.0, -3.0, 3.0, 1.0]
        row[9] = 0.0
        row[10] = 0.05
        if i % 2:
            row[7] = 0.1 * rng.random()
        else:
            row[11:15] = [3.0, 0.1 + 0.01 * rng.random(), 0.003, 0.001]
        out.extend(row)
    return out


def writer_cost(root, n, use_numpy, samples=300):
    runlog_policy._numpy = (lambda: __import__('numpy')) if use_numpy else (lambda: None)
    rng = random.Random(1)
    pool = [row_values(n, rng) for _ in range(16)]
    w = RunLogWriter(os.path.join(root, f'cost-{n}-{use_numpy}'), project_root='/project')
    w.layers(layers(n))
    started = time.perf_counter()
    for step in range(samples):
        w.sample(step, 1.0, 1.0, pool[step % 16])
    per_sample = (time.perf_counter() - started) / samples * 1e6
    started = time.perf_counter()
    for step in range(samples, samples + 20000):
        w.loss(step, 1.0)
    per_loss = (time.perf_counter() - started) / 20000 * 1e6
    w.close()
    return round(per_sample, 1), round(per_loss, 2)


def mlp_run(root, steps=100_000, every=10):
    import torch

    from normscope.engine.run import train_step
    from normscope.measuring.layer_table import layer_infos
    from normscope.measuring.layers import measured_modules
    from normscope.measuring.meter import Meter

    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(32, 64), torch.nn.ReLU(), torch.nn.Linear(64, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10)
    )
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    loss_fn = torch.nn.CrossEntropyLoss()
    x, y = torch.randn(64, 32), torch.randint(0, 10, (64,))
    meter = Meter(measured_modules(model), [(None, model)])
    path = os.path.join(root, 'mlp')
    w = RunLogWriter(path, project_root='/project', meta={'every': every})
    checkpoints, started = {}, time.perf_counter()
    for step in range(steps):
        t = time.perf_counter()
        loss, values = train_step(model, optimizer, loss_fn, x, y, meter if step % every == 0 else None)
        if step == 0:
            w.layers(layer_infos(meter))
        if values is None:
            w.loss(step, loss)
        else:
            w.sample(step, loss, (time.perf_counter() - t) * 1000, values)
        if step + 1 in (10_000, 50_000, 100_000):
            checkpoints[step + 1] = {'bytes': folder_bytes(path), 'rssMB': round(rss_mb(), 1)}
    w.close()
    return {
        'steps': steps,
        'every': every,
        'layers': len(measured_modules(model)),
        'seconds': round(time.perf_counter() - started, 1),
        'bytes': folder_bytes(path),
        'at': checkpoints,
    }


def wide_run(root, samples=20_000, n=500):
    rng = random.Random(2)
    pool = [row_values(n, rng) for _ in range(8)]
    path = os.path.join(root, 'wide')
    w = RunLogWriter(path, project_root='/project')
    w.layers(layers(n))
    slowest, most, started = 0.0, 0, time.perf_counter()
    for step in range(samples):
        t = time.perf_counter()
        w.sample(step, 1.0, 1.0, pool[step % 8])
        slowest = max(slowest, time.perf_counter() - t)
        if step % 500 == 0:
            most = max(most, folder_bytes(path))
    w.close()
    record = 8 + 32 + 4 * n * W
    return {
        'samples': samples,
        'layers': n,
        'recordBytes': record,
        'bytesThrough': samples * record,
        'budgetBytes': w.retention.budget,
        'mostBytes': max(most, folder_bytes(path)),
        'finalStride': w.retention.stride,
        'seconds': round(time.perf_counter() - started, 1),
        'slowestStepMs': round(slowest * 1000, 1),
        'rssMB': round(rss_mb(), 1),
    }


def main():
    root = tempfile.mkdtemp(prefix='normscope-runlog-bench-')
    try:
        cost = {}
        for n in (10, 100, 500):
            for use_numpy in (True, False):
                per_sample, per_loss = writer_cost(root, n, use_numpy)
                cost[f'{n} layers, {"numpy" if use_numpy else "loop"}'] = {
                    'usPerSample': per_sample,
                    'usPerLossStep': per_loss,
                }
        runlog_policy._numpy = lambda: __import__('numpy')
        out = {'writer': cost, 'mlp': mlp_run(root), 'wide': wide_run(root)}
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(json.dumps(out))


if __name__ == '__main__':
    sys.exit(main())
