"""What a BatchNorm's moving averages hold: how much of their initial values is left after their updates so far.

PyTorch updates running = (1 − momentum) · running + momentum · batch from running mean 0 and variance 1
(reset_running_stats, which also zeroes num_batches_tracked), so after k updates (1 − momentum)^k of those initial
values remains: 0.59 after 5 steps at the default momentum 0.1. A short run's gaps would measure that warm-up rather
than drift (with N(0, 0.02) weights the batch variance is ~1e-4, so a running variance still near 1 is "300000 %
off"); the gaps are taken against the averages with it removed — the weighted mean of the batches seen, the
correction Adam applies to its moment estimates (Kingma & Ba 2015, section 3)."""

CUMULATIVE = 0.0  # momentum=None: a cumulative average, whose first update replaces the initial values


def moving_state(module):
    """(keep, updates, eps) of a BatchNorm in training: `keep` the weight the initial values still have, `updates`
    num_batches_tracked, `eps` the layer's own (BN divides by √(σ² + ε), so smaller differences do not change its
    output). keep is 0 where no correction applies: a cumulative average, or momentum 0, whose averages never leave
    the initial values (that is what inference would use, so it is what the gap should show)."""
    tracked = module.num_batches_tracked
    updates = float(tracked) if tracked is not None else float('nan')
    momentum = module.momentum
    keep = CUMULATIVE if momentum is None or not 0 < momentum <= 1 or not updates >= 1 else (1 - momentum) ** updates
    return keep, updates, float(module.eps)
