"""DistributedDataParallel: each rank measures its own replica; once per sampled step ONE collective (an all_gather of
a small float64 buffer on its own gloo group) brings every rank's raw moments to every rank, and rank 0 combines them
exactly, as if one process had run the global batch: activation sums, sums of squares, counts, min/max, zero,
saturated and non-finite counts add up; a ReLU unit is dead when its maximum over every rank's batch is ≤ 0; the
activation gradient is that of the loss DDP optimizes, the mean of the ranks' losses (√Σ‖g_r‖² / W). Weights, their
gradients and updates are the same on every rank after DDP's all-reduce: rank 0's stand. BatchNorm normalizes each
rank's batch on its own, so each rank's batch mean and std of a BatchNorm's input are kept side by side (a `ranks`
record of the run log). The group has its own timeout, so a rank that died never leaves rank 0 waiting for ever."""

import datetime
import math
import os

import torch

from ..measuring.meter import BN_TYPES
from ..measuring.native import STATS
from ..measuring.stats_math import (
    ACT_GRAD,
    BAD_COUNT,
    DEAD,
    DEAD_COUNT,
    GAIN,
    HI,
    LO,
    MAX,
    MEAN,
    MIN,
    NON_FINITE,
    NON_ZERO,
    NORM,
    P_DEAD,
    P_DEAD_OF,
    P_GRAD,
    P_IN,
    P_IN_N,
    P_OUT,
    P_OUT_N,
    P_SAT,
    SATURATED,
    STAT_NAMES,
    STD,
    SUM,
    VARIANCE,
    ZERO,
    K,
    div,
    sqrt,
)

NAN = math.nan
WIDTH = 12  # raw fields per row, below
N, S, SQ, LO_, HI_, NZ, SAT, BAD, IN_N, IN_S, IN_SQ, GSQ = range(WIDTH)
ADDED = (N, S, SQ, NZ, SAT, BAD, IN_N, IN_S, IN_SQ, GSQ)
DEFAULT_TIMEOUT_S = 300  # NORMSCOPE_DDP_TIMEOUT: how long rank 0 waits for the others at a sampled step


def rank_and_world():
    """(rank, world size, process group initialized): torch.distributed's, else torchrun's environment."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size(), True
    env = os.environ
    return int(env.get('RANK', 0)), int(env.get('WORLD_SIZE', 1)), False


def raw_rows(meter):
    """This rank's raw moments of the step, rows in table order: (WIDTH floats per row, the dead units' maxima, the
    units of each row (0: not a ReLU))."""
    buf, plan = meter.buffer, meter.plan
    buf.flush()
    v = buf.raw[: buf.used].tolist()
    rows, maxima, units = [], [], []
    for i in meter.order:
        p = i * K
        row = [NAN] * WIDTH
        b = plan[p + P_OUT]
        if b >= 0:
            row[N], row[S], row[SQ] = plan[p + P_OUT_N], v[b + SUM], v[b + NORM] ** 2
            row[LO_], row[HI_], row[NZ], row[BAD] = v[b + LO], v[b + HI], v[b + NON_ZERO], v[b + BAD_COUNT]
            if plan[p + P_SAT] >= 0:
                row[SAT] = v[plan[p + P_SAT]]
        if plan[p + P_IN] >= 0:
            row[IN_N], row[IN_S], row[IN_SQ] = plan[p + P_IN_N], v[plan[p + P_IN] + SUM], v[plan[p + P_IN] + NORM] ** 2
        if plan[p + P_GRAD] >= 0:
            row[GSQ] = v[plan[p + P_GRAD]] ** 2
        rows.extend(row)
        units.append(plan[p + P_DEAD_OF] if plan[p + P_DEAD] >= 0 else 0)
        if units[-1]:
            count, dead = units[-1], plan[p + P_DEAD]
            kept = meter.unit_max.get(b)  # the torch path's; else the fused pass's, in the buffer
            if kept is not None:
                maxima.append(kept.double())
            else:  # conv maps: per-channel sums, squares, maxima after the STATS; features: columns' before the count
                first = b + STATS + 2 * count if dead == b + DEAD_COUNT else dead - count
                maxima.append(torch.tensor(v[first : first + count], dtype=torch.float64))
    return rows, maxima, units


class Combiner:
    """The ranks' raw moments gathered once per sampled step and combined on rank 0."""

    def __init__(self, rank, world, timeout_s=None):
        import torch.distributed as dist

        self.dist, self.rank, self.world = dist, rank, world
        seconds = timeout_s or float(os.environ.get('NORMSCOPE_DDP_TIMEOUT', DEFAULT_TIMEOUT_S))
        self.group = dist.new_group(
            backend='gloo', timeout=datetime.timedelta(seconds=seconds)
        )  # every rank calls watch()

    def start(self, meter, losses, batch):
        """Starts one all_gather of [losses…, batch, rows…, maxima…] (float64; the same length on every rank: the same
        model, the same steps) without waiting for it: the next step's compute hides the wait for the other ranks.
        Returns what `finish` needs."""
        rows, maxima, units = raw_rows(meter)
        head = torch.tensor([*losses, batch or 0, *rows], dtype=torch.float64)
        if maxima and len({m.device for m in maxima}) == 1:
            maxima = [torch.cat(maxima).cpu()]  # on an accelerator: one copy
        mine = torch.cat([head, *[m.cpu() for m in maxima]])
        out = [torch.empty_like(mine) for _ in range(self.world)]
        return self.dist.all_gather(out, mine, group=self.group, async_op=True), out, units

    def finish(self, started):
        """Every rank's buffer as a list of floats (rank 0), None elsewhere; raises when a rank died or timed out."""
        work, out, self.units = started
        work.wait()
        return [t.tolist() for t in out] if self.rank == 0 else None

    def release(self):
        """Destroys the group now, while the interpreter is whole: left to the garbage collector, gloo's threads could
        be torn down during interpreter finalization, which aborts the process ("terminate called without an active
        exception"). Only when no collective is in flight: the destructor waits for it."""
        group, self.group = self.group, None
        if group is not None and self.dist.is_initialized():
            try:
                self.dist.destroy_process_group(group)
            except (RuntimeError, ValueError):  # the user destroyed every group already: ours goes with our reference
                pass

    def combine(self, gathered, n_losses, meter, values):
        """(mean losses, per-rank batch sizes, `values` with every activation statistic of the global batch, the
        per-rank batch statistics of each BatchNorm input {row: {'mean': [...], 'std': [...]}})."""
        w = len(gathered)
        losses = [sum(g[k] for g in gathered) / w for k in range(n_losses)]
        batches = [int(g[n_losses]) for g in gathered]
        first, rows = n_losses + 1, len(meter.order)
        tail = first + rows * WIDTH
        per_rank_bn = {}
        for r, i in enumerate(meter.order):
            raws = [g[first + r * WIDTH : first + (r + 1) * WIDTH] for g in gathered]
            units = self.units[r]
            maxima = None
            if units:
                maxima = [max(g[tail + k] for g in gathered) for k in range(units)]
                tail += units
            _write_row(values, r, raws, maxima, w)
            if i < len(meter.leaves) and isinstance(meter.leaves[i][1], BN_TYPES):
                stats = [_mean_var(x[IN_S], x[IN_SQ], x[IN_N]) for x in raws]
                per_rank_bn[r] = {'mean': [m for m, _ in stats], 'std': [sqrt(v) for _, v in stats]}
        return losses, batches, per_rank_bn


def _mean_var(total, squares, n):
    mean = div(total, n)
    var = div(squares, n) - mean * mean
    return mean, (var if var >= 0 or math.isnan(var) else 0.0)


def _write_row(values, r, raws, maxima, world):
    """Row r's activation statistics from the ranks' raw moments (stats_math.layer_values' formulas)."""
    c = [sum(x[f] for x in raws) if f in ADDED else NAN for f in range(WIDTH)]
    c[LO_], c[HI_] = min(x[LO_] for x in raws), max(x[HI_] for x in raws)
    base = r * len(STAT_NAMES)
    if not math.isnan(c[N]):
        mean, var = _mean_var(c[S], c[SQ], c[N])
        std = sqrt(var)
        values[base + MEAN], values[base + VARIANCE], values[base + STD] = mean, var, std
        values[base + MIN], values[base + MAX], values[base + NON_FINITE] = c[LO_], c[HI_], c[BAD]
        values[base + ZERO] = NAN if math.isnan(c[SQ]) else 1 - div(c[NZ], c[N])
        if not math.isnan(c[SAT]):
            values[base + SATURATED] = c[SAT] / c[N]
        if not math.isnan(c[IN_N]):
            values[base + GAIN] = div(std, sqrt(_mean_var(c[IN_S], c[IN_SQ], c[IN_N])[1]))
    if not math.isnan(c[GSQ]):
        values[base + ACT_GRAD] = math.sqrt(c[GSQ]) / world
    if maxima is not None:
        values[base + DEAD] = sum(m <= 0 for m in maxima) / len(maxima)
