"""A PyTorch training run watched by NormScope from inside your own loop: one `normscope.watch(...)` line.

It trains a small regressor for 3,000 optimizer steps. At step 2,000 the learning-rate schedule (a warm restart with a
misplaced factor) multiplies the rate by 10: within a few steps the large updates drive the second hidden layer's ReLUs
below zero for every input, and they never come back — the loss jumps to a plateau, nothing crashes, and nothing in
the loss curve says which layer died or where it was built. Run it, then ask NormScope:

    python examples/pytorch/train_watch.py      # writes .normscope/runs/<time>-train_watch/ (about half a minute)
    npx normscope report                        # the newest run: 'dead' on the line of self.act2, from step ~2000
    npx normscope watch                         # (in another terminal, while it trains) live progress and findings

In your own project: `pip install <the extension>/python` (or PYTHONPATH=<the extension>/python), then one line around
your loop, as below. docs/watch.md says what is measured and what it costs."""

import os
import sys

import torch
import torch.nn as nn

try:
    import normscope
except ImportError:  # not installed: this checkout's copy
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'python'))
    import normscope

STEPS, JUMP = 3000, 2000


class Regressor(nn.Module):
    """Two hidden ReLU layers and a linear head."""

    def __init__(self, inputs=8, width=64):
        super().__init__()
        self.fc1, self.act1 = nn.Linear(inputs, width), nn.ReLU()
        self.fc2, self.act2 = nn.Linear(width, width), nn.ReLU()
        self.head = nn.Linear(width, 1)

    def forward(self, x):
        hidden = self.act1(self.fc1(x))
        hidden = self.act2(self.fc2(hidden))
        return self.head(hidden)


def schedule(step):
    """The learning-rate factor: 1, then (the bug) 10 from JUMP on."""
    return 10.0 if step >= JUMP else 1.0


def main():
    torch.manual_seed(0)
    x = torch.randn(4096, 8)
    y = (x[:, :4].sum(1, keepdim=True) - x[:, 4:].abs().sum(1, keepdim=True)).abs()
    model = Regressor()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    loss_fn = nn.MSELoss()
    with normscope.watch(model, optimizer, every=10) as watcher:  # the one line: every 10th optimizer step measured
        for step in range(STEPS):
            batch = torch.randint(0, len(x), (64,))
            optimizer.zero_grad()
            loss = loss_fn(model(x[batch]), y[batch])
            loss.backward()
            optimizer.step()
            scheduler.step()
            if step % 500 == 0:
                model.eval()
                with torch.no_grad():  # an evaluation in between: not measured, changes nothing
                    print(f'step {step}: loss {loss.item():.4f}, eval {loss_fn(model(x[:512]), y[:512]).item():.4f}')
                model.train()
    print(f'run log: {watcher.directory}')


if __name__ == '__main__':
    main()
