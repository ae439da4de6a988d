"""One rank of a DistributedDataParallel run watched by normscope.watch, or the same training in one process over the
whole batch (test/unit/pytorch-watch-ddp.test.ts). The ranks are started by hand (RANK, WORLD_SIZE, MASTER_ADDR,
MASTER_PORT in the environment: Debian's torchrun fails on Python 3.11); the run log goes under $NORMSCOPE_DIR.
`python3 watch_ddp.py <fixture dir> plain|bn [--single] [--steps N] [--batch B] [--die-at STEP]`: B examples per
device (the single process trains on WORLD_SIZE x B); with --die-at, rank 1 kills itself (SIGKILL) at that step."""

import argparse
import datetime
import os
import signal
import sys

import torch
import torch.distributed as dist
import torch.nn as nn
from torch.nn.parallel import DistributedDataParallel

from normscope.watching import watch


def main():
    p = argparse.ArgumentParser()
    p.add_argument('root')
    p.add_argument('model', choices=['plain', 'bn'])
    p.add_argument('--single', action='store_true')
    p.add_argument('--steps', type=int, default=6)
    p.add_argument('--batch', type=int, default=4)
    p.add_argument('--die-at', type=int, default=None)
    args = p.parse_args()
    sys.path.insert(0, args.root)
    from model import Plain, WithBatchNorm

    world = int(os.environ.get('WORLD_SIZE', 1))
    if not args.single:  # a short timeout: a rank that dies fails the others' next collective instead of hanging
        dist.init_process_group('gloo', timeout=datetime.timedelta(seconds=30))
    rank = dist.get_rank() if not args.single else 0
    torch.manual_seed(0)
    net = (Plain if args.model == 'plain' else WithBatchNorm)()
    model = net if args.single else DistributedDataParallel(net)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    g = torch.Generator().manual_seed(1)
    total = world * args.batch
    with watch(model, opt, project_root=args.root):
        for step in range(args.steps):
            x, y = torch.randn(total, 3, 8, 8, generator=g), torch.randint(0, 4, (total,), generator=g)
            if not args.single:
                x, y = x[rank * args.batch : (rank + 1) * args.batch], y[rank * args.batch : (rank + 1) * args.batch]
            if args.die_at is not None and step == args.die_at and rank == 1:
                os.kill(os.getpid(), signal.SIGKILL)
            opt.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
            print(f'rank {rank} step {step}', flush=True)
    if not args.single:
        dist.destroy_process_group()


if __name__ == '__main__':
    main()
