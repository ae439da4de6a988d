"""The scalar arithmetic of one layer's statistics, in Python on the step's read-back reductions (measure.py).
Divisions follow IEEE like the torch ops they replace: x/0 is ±inf, 0/0 and NaN operands are NaN."""
import math

NAN = float('nan')


def div(a, b):
    if math.isnan(a) or math.isnan(b):
        return NAN
    if b == 0:
        return NAN if a == 0 else math.copysign(math.inf, a)
    return a / b  # inf / inf is NaN in Python too


def sqrt(x):
    return math.sqrt(x) if x >= 0 else NAN  # NaN >= 0 is False: NaN stays NaN


def moments(m, vals):
    """(mean, variance) from sum and sum of squares, variance clamped at 0 (rounding) and NaN kept."""
    mean = div(vals[m.s1], m.n)
    norm = vals[m.s2]  # the slot holds the 2-norm (x * x: inf on overflow, where ** raises)
    var = div(norm * norm, m.n) - mean * mean
    return mean, (var if var >= 0 or math.isnan(var) else 0.0)


def _norm(slots, vals):
    """The 2-norm of several tensors from theirs."""
    return sqrt(sum(vals[s] * vals[s] for s in slots))


def layer_values(rec, vals, gaps, names):
    """This layer's row in STAT_NAMES order from its slots in `rec` (see Meter): NaN where a stat does not apply."""
    row = dict.fromkeys(names, NAN)
    out = rec.get('out')
    if out is not None:
        mean, var = moments(out, vals)
        s2 = vals[out.s2]
        row.update(mean=mean, variance=var, std=sqrt(var), min=vals[out.lo], max=vals[out.hi], nonFinite=float(out.non_finite or 0))
        row['zeroFraction'] = NAN if math.isnan(s2) else 1 - div(vals[out.nnz], out.n)  # a NaN element made the old sum NaN too
        if 'in' in rec:
            row['gain'] = div(sqrt(var), sqrt(moments(rec['in'], vals)[1]))
        if 'dead' in rec:
            row['deadFraction'] = vals[rec['dead'][0]] / rec['dead'][1]
        if 'sat' in rec:
            row['saturatedFraction'] = vals[rec['sat']] / out.n
    if 'grad' in rec:
        row['activationGradNorm'] = vals[rec['grad']]
    if rec.get('w'):
        row['weightNorm'] = _norm(rec['w'], vals)
        if rec.get('g'):
            row['gradNorm'] = _norm(rec['g'], vals)
        if 'u' in rec:
            row['updateNorm'] = _norm(rec['u'], vals)
            row['updateRatio'] = div(row['updateNorm'], row['weightNorm'])
    if 'gamma' in rec:
        gmean, gvar, gmin, gmax = (vals[s] for s in rec['gamma'])
        row.update(gammaMean=gmean, gammaStd=sqrt(gvar), gammaMin=gmin, gammaMax=gmax)
        if 'beta' in rec:
            row['betaMean'] = vals[rec['beta']]
    if gaps is not None:
        row['movingMeanGap'], row['movingVarGap'] = gaps
    return [row[n] for n in names]
