"""One layer's statistics from the step's read-back slots (step_buffer.py): where each reduction sits (Moments, the
step's plan) and the scalar arithmetic in Python (native.py's ns_finish does the same in C for the fused pass).
Divisions follow IEEE like the torch ops they replace: x/0 is ±inf, 0/0 and NaN operands are NaN."""

import math

# fmt: off
STAT_NAMES = ['mean', 'variance', 'std', 'min', 'max', 'gain', 'zeroFraction', 'deadFraction', 'saturatedFraction',
              'nonFinite', 'activationGradNorm', 'weightNorm', 'gradNorm', 'updateNorm', 'updateRatio', 'gammaMean',
              'gammaStd', 'gammaMin', 'gammaMax', 'betaMean', 'movingMeanGap', 'movingVarGap', 'movingUpdates']
# fmt: on
(
    MEAN,
    VARIANCE,
    STD,
    MIN,
    MAX,
    GAIN,
    ZERO,
    DEAD,
    SATURATED,
    NON_FINITE,
    ACT_GRAD,
    WEIGHT,
    GRAD,
    UPDATE,
    UPDATE_RATIO,
    GAMMA_MEAN,
    GAMMA_STD,
    GAMMA_MIN,
    GAMMA_MAX,
    BETA_MEAN,
    MEAN_GAP,
    VAR_GAP,
    MOVING_UPDATES,
) = range(len(STAT_NAMES))
# A tensor's reductions, from its Moments' base slot on (the fused pass writes them in this order, see native.py).
REDUCTIONS = ('sum', 'norm', 'lo', 'hi', 'non_zero', 'sat_count', 'dead_count', 'bad_count')
SUM, NORM, LO, HI, NON_ZERO, SAT_COUNT, DEAD_COUNT, BAD_COUNT = range(len(REDUCTIONS))
NAN = float('nan')


class Moments:
    """Where one tensor's reductions are: `base` + SUM… (full: all eight; else only SUM and NORM), then with
    `channels` (dim 1) their sums, sums of squares and maxima from slot `chan` on, and with `cols` the same per last-dim
    column from slot `cols` on, then the dead-column count (fused pass). The torch path may keep per-row sums and
    norms (`row_sum`, `row_norm`) for a BatchNorm it feeds. `sat`: the (center, threshold) its SAT_COUNT counts."""

    __slots__ = ('base', 'n', 'ref', 'shape', 'layer', 'full', 'channels', 'sat', 'chan', 'cols', 'row_sum', 'row_norm')

    def __init__(self, base, t, ref, layer, full, channels=0, sat=None):
        self.base, self.n, self.shape, self.ref, self.layer, self.full, self.channels, self.sat = (
            base,
            t.numel(),
            t.shape,
            ref,
            layer,
            full,
            channels,
            sat,
        )
        self.chan: 'int | None' = None
        self.cols: 'int | None' = None
        self.row_sum = self.row_norm = None


# The three name lists here are measuring.h's too (its X-macros); native.py checks that they agree when it loads the C
# library, and test/unit/stat-layout.test.ts that STAT_NAMES is src/protocol/run.ts's.
# The step's plan: per layer FIELDS int64 slots (−1: none; counts: how many slots from the one before), filled by the
# hooks and read by layer_values here or ns_finish in native.py, which follow this order.
FIELDS = (
    'out',
    'out_n',
    'inp',
    'inp_n',
    'grad',
    'dead',
    'dead_of',
    'sat',
    'w',
    'w_n',
    'g',
    'g_n',
    'u',
    'u_n',
    'gamma',
    'beta',
    'gaps',
)
(
    P_OUT,
    P_OUT_N,
    P_IN,
    P_IN_N,
    P_GRAD,
    P_DEAD,
    P_DEAD_OF,
    P_SAT,
    P_W,
    P_W_N,
    P_G,
    P_G_N,
    P_U,
    P_U_N,
    P_GAMMA,
    P_BETA,
    P_GAPS,
) = range(len(FIELDS))
K = len(FIELDS)


def div(a, b):
    if math.isnan(a) or math.isnan(b):
        return NAN
    if b == 0:
        return NAN if a == 0 else math.copysign(math.inf, a)
    return a / b  # inf / inf is NaN in Python too


def sqrt(x):
    return math.sqrt(x) if x >= 0 else NAN  # NaN >= 0 is False: NaN stays NaN


def _moments(vals, base, n):
    """(mean, variance) from sum and 2-norm, variance clamped at 0 (rounding) and NaN kept."""
    mean = div(vals[base], n)
    norm = vals[base + NORM]  # x * x: inf on overflow, where ** raises
    var = div(norm * norm, n) - mean * mean
    return mean, (var if var >= 0 or math.isnan(var) else 0.0)


def _norm(vals, first, count):
    """The 2-norm of several tensors from theirs."""
    return sqrt(sum(vals[s] * vals[s] for s in range(first, first + count)))


def layer_values(plan, layer, vals):
    """Layer `layer`'s row in STAT_NAMES order from its plan fields: NaN where a stat does not apply."""
    p = plan[layer * K : (layer + 1) * K]
    row = [NAN] * len(STAT_NAMES)
    b, n = p[P_OUT], p[P_OUT_N]
    if b >= 0:
        mean, var = _moments(vals, b, n)
        std = sqrt(var)
        row[MEAN], row[VARIANCE], row[STD], row[MIN], row[MAX], row[NON_FINITE] = (
            mean,
            var,
            std,
            vals[b + LO],
            vals[b + HI],
            vals[b + BAD_COUNT],
        )
        row[ZERO] = (
            NAN if math.isnan(vals[b + NORM]) else 1 - div(vals[b + NON_ZERO], n)
        )  # a NaN element made the old sum NaN too
        if p[P_IN] >= 0:
            row[GAIN] = div(std, sqrt(_moments(vals, p[P_IN], p[P_IN_N])[1]))
        if p[P_DEAD] >= 0:
            row[DEAD] = vals[p[P_DEAD]] / p[P_DEAD_OF]
        if p[P_SAT] >= 0:
            row[SATURATED] = vals[p[P_SAT]] / n
    if p[P_GRAD] >= 0:
        row[ACT_GRAD] = vals[p[P_GRAD]]
    if p[P_W_N] > 0:
        row[WEIGHT] = _norm(vals, p[P_W], p[P_W_N])
        if p[P_G_N] > 0:
            row[GRAD] = _norm(vals, p[P_G], p[P_G_N])
        if p[P_U_N] > 0:
            row[UPDATE] = _norm(vals, p[P_U], p[P_U_N])
            row[UPDATE_RATIO] = div(row[UPDATE], row[WEIGHT])
    g = p[P_GAMMA]
    if g >= 0:  # slots: mean, variance, min, max (param_stats.py)
        row[GAMMA_MEAN], row[GAMMA_STD], row[GAMMA_MIN], row[GAMMA_MAX] = (
            vals[g],
            sqrt(vals[g + 1]),
            vals[g + 2],
            vals[g + 3],
        )
        if p[P_BETA] >= 0:
            row[BETA_MEAN] = vals[p[P_BETA]]
    if p[P_GAPS] >= 0:
        row[MEAN_GAP], row[VAR_GAP], row[MOVING_UPDATES] = vals[p[P_GAPS]], vals[p[P_GAPS] + 1], vals[p[P_GAPS] + 2]
    return row
