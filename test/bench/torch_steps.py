"""Plain PyTorch training steps of the tfjs bench's CNN and MLP (test/bench/backends.ts builds the same models), on
one thread, for test/bench/vsPytorch.ts. It stays running and answers one line per command, so that the bench can
alternate rounds of tfjs and PyTorch steps in one run (both then see the same load of a shared machine):
  stdin  `cnn 5`  -> stdout `{"wallMs": [...], "cpuMs": [...]}`  (one entry per step)
A first line `{"torch": version, "threads": 1}` says it is ready (models built, a few steps of each warmed up)."""

import json
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(1)
torch.manual_seed(0)


# fmt: off
def cnn():
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * 7 * 7, 10))
# fmt: on


def mlp():
    return nn.Sequential(
        nn.Linear(784, 256),
        nn.BatchNorm1d(256),
        nn.ReLU(),
        nn.Linear(256, 128),
        nn.LayerNorm(128),
        nn.ReLU(),
        nn.Linear(128, 10),
    )


def problem(model, x):
    # Adam and softmax cross-entropy as the tfjs models (softmax + categoricalCrossentropy), batch 32, 10 classes.
    return model, torch.optim.Adam(model.parameters(), 1e-3), x, torch.randint(0, 10, (32,))


def step(p):
    model, opt, x, y = p
    opt.zero_grad(set_to_none=True)
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    return loss.item()  # read back, as tfjs' trainOnBatch does


def main():
    problems = {'cnn': problem(cnn(), torch.randn(32, 1, 28, 28)), 'mlp': problem(mlp(), torch.randn(32, 784))}
    for p in problems.values():
        for _ in range(10):
            step(p)
    print(json.dumps({'torch': torch.__version__, 'threads': torch.get_num_threads()}), flush=True)
    for line in sys.stdin:
        name, count = line.split()
        wall, cpu = [], []
        for _ in range(int(count)):
            t, c = time.perf_counter(), time.process_time()
            step(problems[name])
            wall.append((time.perf_counter() - t) * 1000)
            cpu.append((time.process_time() - c) * 1000)
        print(json.dumps({'wallMs': wall, 'cpuMs': cpu}), flush=True)


if __name__ == '__main__':
    main()
