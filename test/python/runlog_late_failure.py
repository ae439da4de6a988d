"""A long PyTorch training run recorded as normscope.watch records one (test/unit/runlog-report.test.ts): the engine's
Meter measures every step, RunLogWriter logs the layer table and each step's values under a small budget (so the
history is thinned), and before step `--dies` a bad update (a bias driven to -1000, as a learning-rate jump does)
kills the second ReLU for good. `python3 runlog_late_failure.py <log dir> <project root> [--steps N] [--dies S]
[--budget B] [--sleep SECONDS]`: with --sleep the run pauses between steps (a live log to follow) and prints 'step
N'."""

import argparse
import os
import sys
import time

import torch

from normscope.engine.run import train_step
from normscope.measuring import creation
from normscope.measuring.layer_table import layer_infos
from normscope.measuring.layers import measured_modules
from normscope.measuring.meter import Meter
from normscope.runlog.writer import RunLogWriter


def main():
    p = argparse.ArgumentParser()
    p.add_argument('log')
    p.add_argument('root')
    p.add_argument('--steps', type=int, default=2000)
    p.add_argument('--dies', type=int, default=801)
    p.add_argument('--budget', type=int, default=200_000)
    p.add_argument('--sleep', type=float, default=0)
    args = p.parse_args()
    model_file = os.path.join(args.root, 'model.py')
    creation.install(model_file, args.root)  # each module records the line that built it, as the engine does
    sys.path.insert(0, args.root)
    from model import Regressor

    torch.manual_seed(0)
    model = Regressor()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    loss_fn = torch.nn.MSELoss()
    x = torch.randn(64, 8)
    y = x.sum(1, keepdim=True).abs()
    meter = Meter(measured_modules(model), [(None, model)])
    writer = RunLogWriter(
        args.log,
        script=model_file,
        project_root=args.root,
        budget_bytes=args.budget,
        meta={'every': 1, 'batchSize': 16},
    )
    for step in range(args.steps):
        if step == args.dies:
            with torch.no_grad():
                model.fc2.bias.fill_(-1000.0)
        batch = slice((step % 4) * 16, (step % 4 + 1) * 16)
        started = time.perf_counter()
        loss, values = train_step(model, optimizer, loss_fn, x[batch], y[batch], meter)
        if step == 0:
            writer.layers(layer_infos(meter))
        writer.sample(step, loss, (time.perf_counter() - started) * 1000, values)
        if args.sleep:
            print(f'step {step}', flush=True)
            time.sleep(args.sleep)
    writer.close()


if __name__ == '__main__':
    main()
