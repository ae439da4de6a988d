"""PyTorch step plain vs instrumented (every layer measured every step) on the CNN of the tfjs bench
(batch 32, 1x28x28, conv8-BN-ReLU-pool-conv16-BN-ReLU-pool-flatten-dense10, Adam); with --functional the same CNN
with F.relu in forward instead of nn.ReLU modules (functional-activation rows). Prints one JSON line; `hooks`:
whether the Meter's hooks ran compiled (hooks.c) or in Python (no Python headers, or NORMSCOPE_NO_HOOKS=1).
Plain and instrumented steps alternate in rounds on two copies of one model, so machine noise hits both; the
ratio is of medians of wall time (`overhead`) and, less sensitive to other processes on a busy machine, of
process CPU time (`cpuOverhead`). test/bench/pytorch.ts runs it with glibc's malloc thresholds fixed (GLIBC_TUNABLES):
with glibc's moving thresholds a process can pay hundreds of page faults a step on one side only (a freed tensor's
memory handed back to the system and mapped again), which swings the ratio by ±0.1 from one process to the next;
`faultsPerStep` shows what each side paid."""

import copy
import json
import resource
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

from normscope.engine.run import train_step
from normscope.measuring.layers import measured_modules
from normscope.measuring.meter import Meter


# fmt: off
def cnn():
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * 7 * 7, 10))
# fmt: on


class FunctionalCnn(nn.Module):
    """The same CNN as people often write it: F.relu in forward, each a functional-activation row (functional.py)."""

    def __init__(self):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8)
        self.conv2, self.bn2 = nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16)
        self.fc = nn.Linear(16 * 7 * 7, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.max_pool2d(F.relu(self.bn2(self.conv2(x))), 2)
        return self.fc(torch.flatten(x, 1))


def main(rounds=30, per_round=5, functional=False):
    torch.manual_seed(0)
    plain = FunctionalCnn() if functional else cnn()
    measured = copy.deepcopy(plain)
    meter = Meter(
        measured_modules(measured), [(None, measured)]
    )  # as a run measures it, functional activations watched
    opts = {
        id(plain): torch.optim.Adam(plain.parameters(), 1e-3),
        id(measured): torch.optim.Adam(measured.parameters(), 1e-3),
    }
    x, y = torch.randn(32, 1, 28, 28), torch.randint(0, 10, (32,))
    loss_fn = F.cross_entropy
    times = {'plain': [], 'instrumented': []}
    cpu = {'plain': [], 'instrumented': []}
    faults = {'plain': 0, 'instrumented': 0}
    for r in range(rounds + 2):  # the first two rounds warm up
        for name, model, m in (('plain', plain, None), ('instrumented', measured, meter)):
            for _ in range(per_round):
                f, t, c = resource.getrusage(resource.RUSAGE_SELF).ru_minflt, time.perf_counter(), time.process_time()
                train_step(model, opts[id(model)], loss_fn, x, y, m)
                if r >= 2:
                    times[name].append((time.perf_counter() - t) * 1000)
                    cpu[name].append((time.process_time() - c) * 1000)
                    faults[name] += resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f
    plain_ms, instrumented_ms = statistics.median(times['plain']), statistics.median(times['instrumented'])
    plain_cpu, instrumented_cpu = statistics.median(cpu['plain']), statistics.median(cpu['instrumented'])
    print(
        json.dumps(
            {
                'torch': torch.__version__,
                'threads': torch.get_num_threads(),
                'hooks': 'compiled' if meter.compiled else 'python',
                'plainStepMs': round(plain_ms, 3),
                'instrumentedStepMs': round(instrumented_ms, 3),
                'overhead': round(instrumented_ms / plain_ms, 3),
                'plainCpuMs': round(plain_cpu, 3),
                'instrumentedCpuMs': round(instrumented_cpu, 3),
                'cpuOverhead': round(instrumented_cpu / plain_cpu, 3),
                'faultsPerStep': {k: round(v / len(times[k]), 1) for k, v in faults.items()},
                'layers': len(meter.order),
                'stepsEach': len(times['plain']),
            }
        )
    )


if __name__ == '__main__':
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 30, functional='--functional' in sys.argv)
