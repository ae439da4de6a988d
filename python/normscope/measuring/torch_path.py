"""Reductions of meter.py's torch-ops path (no C compiler, or tensors the fused pass cannot read) that are not one
torch call: row views for fast norms, per-unit maxima, a BatchNorm input's channel sums, and BatchNorm
moving-statistics gaps in Python."""

import math

import torch

from .moving_average import moving_state
from .stats_math import P_GAPS, K

MIN_ROW = 64  # shorter rows do not take the fast row-norm path


def row_view(t):
    """`t` as (sample x channel) rows of its remaining dims, when those rows are long enough to reduce fast."""
    if t.dim() < 3 or not t.is_contiguous() or t.numel() < MIN_ROW * t.shape[0] * t.shape[1]:
        return None
    return t.view(t.shape[0] * t.shape[1], -1)


def channel_max(y):
    """Per-channel maxima of a ReLU's output; channels: dim 1 of conv maps, else the last dim."""
    return y.amax(dim=[d for d in range(y.dim()) if d != 1]) if y.dim() >= 4 else y.reshape(-1, y.shape[-1]).amax(dim=0)


def bn_gaps(bn, buf, plan):
    """Moving-statistics gaps the fused pass did not take (layer → (BatchNorm, channel sums as slots (first, C) or
    tensors, count)), into three new slots of each layer (stats_math.P_GAPS): mean over channels of
    |running mean − batch mean| / sqrt(batch var + ε) and of |running var − batch var| / (batch var + ε), with the
    running statistics corrected for their warm-up (moving_average.py), and the count of updates."""
    for i, (module, (s, q), count) in bn.items():
        if type(s) is int:  # slots: C sums, then C sums of squares (their values are in the buffer's memory)
            c = q
            sums = buf.values(s, 2 * c)
        else:
            c = s.numel()
            sums = s.tolist() + q.tolist()
        with torch.no_grad():
            running = torch.cat([module.running_mean, module.running_var]).tolist()
        keep, updates, epsilon = moving_state(module)
        scale = 1 / (1 - keep)
        mean_gap = var_gap = 0.0
        for k in range(c):
            mean = sums[k] / count
            var = max(sums[c + k] / count - mean * mean, 0.0)
            mean_gap += abs(running[k] * scale - mean) / math.sqrt(var + epsilon)
            var_gap += abs((running[c + k] - keep) * scale - var) / (var + epsilon)
        slot = plan[i * K + P_GAPS] = buf.take(3)
        buf.put(slot, mean_gap / c)
        buf.put(slot + 1, var_gap / c)
        buf.put(slot + 2, updates)


def channel_sums(x, xm, feeds_bn):
    """A BatchNorm input's per-channel sum and sum of squares: slots (slot, C) of its producer's fused pass, or
    tensors (its kept rows, else torch ops). A producer without them is added to `feeds_bn`: from the next sampled
    step on it keeps row/column sums."""
    c = x.shape[1]
    if x.dim() >= 3 and xm.chan is not None and xm.shape[:2] == x.shape[:2] and xm.channels == c:
        return xm.chan, c
    if x.dim() == 2 and xm.cols is not None and xm.shape == x.shape:
        return xm.cols, c
    if xm.row_sum is not None and xm.shape[:2] == x.shape[:2]:
        return xm.row_sum.view(x.shape[0], c).sum(0), xm.row_norm.square().view(x.shape[0], c).sum(0)
    if xm.layer is not None:
        feeds_bn.add(xm.layer)
    dims = [d for d in range(x.dim()) if d != 1]
    with torch.no_grad():
        return x.sum(dim=dims), (x * x).sum(dim=dims)
