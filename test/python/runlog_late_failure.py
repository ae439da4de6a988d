"""A long PyTorch training run watched with one line, `watch(model, optimizer)` (test/unit/runlog-report.test.ts):
the log is kept under a small budget (so the history is thinned), and before step `--dies` a bad update (a bias driven
to -1000, as a learning-rate jump does) kills the second ReLU for good. The model is built before watch() is called,
as users do: its layers' lines come from the source (watching/sources.py).
`python3 runlog_late_failure.py <log dir> <project root> [--steps N] [--dies S] [--budget B] [--sleep SECONDS]`:
with --sleep the run pauses between steps (a live log to follow) and prints 'step N'."""

import argparse
import sys
import time

import torch

from normscope.watching import watch


def main():
    p = argparse.ArgumentParser()
    p.add_argument('log')
    p.add_argument('root')
    p.add_argument('--steps', type=int, default=2000)
    p.add_argument('--dies', type=int, default=801)
    p.add_argument('--budget', type=int, default=200_000)
    p.add_argument('--sleep', type=float, default=0)
    args = p.parse_args()
    sys.path.insert(0, args.root)
    from model import Regressor

    torch.manual_seed(0)
    model = Regressor()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    loss_fn = torch.nn.MSELoss()
    x = torch.randn(64, 8)
    y = x.sum(1, keepdim=True).abs()
    with watch(model, optimizer, directory=args.log, project_root=args.root, budget_mb=args.budget / (1 << 20)):
        for step in range(args.steps):
            if step == args.dies:
                with torch.no_grad():
                    model.fc2.bias.fill_(-1000.0)
            batch = slice((step % 4) * 16, (step % 4 + 1) * 16)
            optimizer.zero_grad()
            loss = loss_fn(model(x[batch]), y[batch])
            loss.backward()
            optimizer.step()
            if args.sleep:
                print(f'step {step}', flush=True)
                time.sleep(args.sleep)


if __name__ == '__main__':
    main()
