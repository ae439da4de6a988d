"""What a run log keeps (docs/run-log.md "Events" and "Retention"): the online events that protect the samples
around them, and which aged samples survive decimation. Pure bookkeeping, no I/O; src/runlog/events.ts and
retention.ts are the same rules in TypeScript, and test/unit/runlog-conformance.test.ts holds both writers to
byte-identical files for the same input. Events are computed with numpy when it is there (tens of microseconds at
500 layers), else by a loop over the layers (milliseconds); test/python/test_runlog.py holds the two to the same
events."""

import bisect
import math
import sys
from array import array

START_SAMPLES = 32  # the first samples of a run are always kept: the detectors' baselines
BEFORE, AFTER = 4, 12  # samples kept before and after an event (the detectors need 3 in a row from the onset)
EMA_RATE = 1 / 8  # per-layer moving averages of the gradient norm, variance and dead fraction
WARMUP = 8  # samples a layer needs before its moving averages may raise a jump
# A gradient norm or variance 10x above or below its moving average is a jump (0 is no ratio: the conditions see it).
JUMP = 10.0
DEAD_JUMP = 0.25  # so is a dead fraction 0.25 away from its moving average
LOSS_RATE, LOSS_WARMUP, LOSS_SPIKE = 1 / 16, 16, 6.0
MAX_PER_KEY = 8  # events per (kind, layer) in one run
NUMPY_ROWS = 64
# The detectors' default thresholds (src/diagnosis/detectors/thresholds.ts)
DEAD_FRACTION, GAMMA_COLLAPSE, SATURATED_FRACTION = 0.5, 0.1, 0.5
UPDATE_MIN, UPDATE_MAX, DRIFT_GAP, EXPLODING_LOSS_GROWTH = 1e-5, 1e-1, 0.5, 100.0
# Per layer: threshold conditions (raised when they become true), then jumps against a moving average, in this order.
CONDITIONS = ('non-finite', 'dead', 'gamma-collapse', 'saturated', 'effective-lr', 'bn-train-inference-drift')
JUMPS = ('gradient-jump', 'variance-jump', 'dead-jump')
# A window around a condition (what the detectors report) outranks one around a jump or a loss spike.
PRIORITY = {**{k: 2 for k in CONDITIONS}, 'exploding': 2, **{k: 1 for k in JUMPS}, 'loss-spike': 1}
KINDS = CONDITIONS + JUMPS
# the statistics the events read; a log whose statNames lack one has no sample events
# fmt: off
READ = ('nonFinite', 'weightNorm', 'gradNorm', 'activationGradNorm', 'deadFraction', 'gammaMin', 'gammaMax',
        'saturatedFraction', 'updateRatio', 'movingMeanGap', 'movingVarGap', 'variance')
# fmt: on


def _finite(x):
    return x == x and x not in (math.inf, -math.inf)


def _larger(a, b):
    """The larger of two values where either may be NaN (not applicable); NaN when both are (numpy's fmax)."""
    if a != a:
        return b
    return a if b != b or a >= b else b


def _numpy():
    try:
        import numpy

        return numpy
    except ImportError:
        return None


class Events:
    """Online detection of what the detectors look for, one sample at a time: threshold crossings (a condition that
    was false becomes true), jumps against a per-layer moving average, loss spikes. Rate-limited per (kind, layer):
    not again within AFTER samples, at most MAX_PER_KEY times. A layer whose nonFinite is NaN was not run by the step
    (a GAN's other network): it is skipped, as the detectors skip it."""

    def __init__(self, stat_names, use_numpy=True):
        self.width = len(stat_names)
        self.cols = [stat_names.index(n) for n in READ] if all(n in stat_names for n in READ) else None
        self.np = (
            _numpy() if use_numpy else None
        )  # decided at the first sample: numpy pays off from NUMPY_ROWS layers on
        self.rows = 0
        # per layer: 3 finite flags (weight, grad, act-grad norms), 6 active conditions; per jump statistic a count, a
        # moving average and whether it is jumping now (a jump is raised when it starts, like a condition)
        self.flags, self.active, self.counts, self.means, self.jumping = [], [], [], [], []
        self.last = {}  # (kind, layer) -> (seq of the last event, count)
        self.loss_steps, self.loss_mean, self.loss_dev = 0, 0.0, 0.0
        self.loss_active = set()
        self.loss_start = []  # the first three finite |loss|: their median is where growth counts from

    def _raise(self, out, kind, layer, seq, value):
        key = (kind, layer)
        last = self.last.get(key)
        if last is not None and (seq - last[0] < AFTER or last[1] >= MAX_PER_KEY):
            return
        self.last[key] = (seq, 1 if last is None else last[1] + 1)
        out.append((kind, layer, value))

    def _grow(self, rows):
        if rows <= self.rows:
            return
        extra = rows - self.rows
        if self.np is not None:
            np = self.np
            if self.rows == 0:
                self.flags, self.active = np.zeros((0, 3), bool), np.zeros((0, 6), bool)
                self.counts, self.means, self.jumping = (
                    np.zeros((0, 3), np.int64),
                    np.zeros((0, 3)),
                    np.zeros((0, 3), bool),
                )
            self.flags = np.vstack([self.flags, np.zeros((extra, 3), bool)])
            self.active = np.vstack([self.active, np.zeros((extra, 6), bool)])
            self.counts = np.vstack([self.counts, np.zeros((extra, 3), np.int64)])
            self.means = np.vstack([self.means, np.zeros((extra, 3))])
            self.jumping = np.vstack([self.jumping, np.zeros((extra, 3), bool)])
        else:
            self.flags += [False] * 3 * extra
            self.active += [False] * 6 * extra
            self.counts += [0] * 3 * extra
            self.means += [0.0] * 3 * extra
            self.jumping += [False] * 3 * extra
        self.rows = rows

    def sample(self, seq, rows, blob):
        """Events of one sample from its values as stored: rows x width float32, little-endian, row-major.
        Returns [(kind, layer, value)]."""
        if self.cols is None or rows == 0:
            return []
        if self.rows == 0 and rows < NUMPY_ROWS:
            self.np = None
        self._grow(rows)
        if self.np is not None:
            return self._sample_numpy(
                seq, rows, self.np.frombuffer(blob, '<f4').astype(self.np.float64).reshape(rows, self.width)
            )
        v = array('f')
        v.frombytes(blob)
        if sys.byteorder != 'little':
            v.byteswap()
        return self._sample_loop(seq, rows, v)

    def _sample_loop(self, seq, rows, v):
        out, w = [], self.width
        nf_c, w_c, g_c, a_c, dead_c, gmin_c, gmax_c, sat_c, ur_c, mg_c, vg_c, var_c = self.cols  # pyright: ignore
        flags, active, counts, means, jumping = self.flags, self.active, self.counts, self.means, self.jumping
        for layer in range(rows):
            o = layer * w
            nf = v[o + nf_c]
            if nf != nf:
                continue
            bad = nf > 0
            for k, col in enumerate((w_c, g_c, a_c)):
                x = v[o + col]
                if _finite(x):
                    flags[3 * layer + k] = True
                elif x == x or flags[3 * layer + k]:  # +-inf, or NaN where the layer had a finite value
                    bad = True
            dead, ratio = v[o + dead_c], v[o + ur_c]
            gamma = _larger(abs(v[o + gmin_c]), abs(v[o + gmax_c]))
            gap = _larger(v[o + mg_c], v[o + vg_c])
            sat = v[o + sat_c]
            conds = (
                bad,
                dead > DEAD_FRACTION,
                gamma < GAMMA_COLLAPSE,
                sat > SATURATED_FRACTION,
                ratio < UPDATE_MIN or ratio > UPDATE_MAX,
                gap > DRIFT_GAP,
            )
            values = (nf, dead, gamma, sat, ratio, gap)
            for k in range(6):
                if conds[k] and not active[6 * layer + k]:
                    self._raise(out, CONDITIONS[k], layer, seq, values[k])
                active[6 * layer + k] = conds[k]
            for k, x in enumerate((v[o + g_c], v[o + var_c], dead)):
                if not _finite(x):
                    continue
                i = 3 * layer + k
                n, mean, was = counts[i], means[i], jumping[i]
                jumped = n >= WARMUP and (
                    abs(x - mean) > DEAD_JUMP if k == 2 else mean > 0 and x > 0 and (x > JUMP * mean or x * JUMP < mean)
                )
                if jumped and not was:
                    self._raise(out, JUMPS[k], layer, seq, x)
                if (
                    k < 2 and n > 0 and mean > 0 and not was
                ):  # a spike moves the average at most ~2x (no echo as it passes);
                    x = min(
                        max(x, mean / JUMP), mean * JUMP
                    )  # a level that stays is followed from its second sample on
                means[i] = x if n == 0 else mean + (x - mean) * EMA_RATE
                counts[i] = n + 1
                jumping[i] = jumped
        return out

    def _sample_numpy(self, seq, rows, m):
        np = self.np
        nf_c, w_c, g_c, a_c, dead_c, gmin_c, gmax_c, sat_c, ur_c, mg_c, vg_c, var_c = self.cols  # pyright: ignore
        nf = m[:, nf_c]
        measured = nf == nf
        norms = m[:, [w_c, g_c, a_c]]
        finite = np.isfinite(norms)
        bad = (nf > 0) | ((~finite) & ((norms == norms) | self.flags[:rows])).any(axis=1)
        self.flags[:rows] |= finite & measured[:, None]
        dead, ratio, sat = m[:, dead_c], m[:, ur_c], m[:, sat_c]
        gamma = np.fmax(np.abs(m[:, gmin_c]), np.abs(m[:, gmax_c]))
        gap = np.fmax(m[:, mg_c], m[:, vg_c])
        conds = (
            np.stack(
                [
                    bad,
                    dead > DEAD_FRACTION,
                    gamma < GAMMA_COLLAPSE,
                    sat > SATURATED_FRACTION,
                    (ratio < UPDATE_MIN) | (ratio > UPDATE_MAX),
                    gap > DRIFT_GAP,
                ],
                axis=1,
            )
            & measured[:, None]
        )
        rising = conds & ~self.active[:rows]
        self.active[:rows] = np.where(measured[:, None], conds, self.active[:rows])
        xs = np.stack([m[:, g_c], m[:, var_c], dead], axis=1)
        valid = np.isfinite(xs) & measured[:, None]
        n, mean, was = self.counts[:rows], self.means[:rows], self.jumping[:rows].copy()
        with np.errstate(invalid='ignore', over='ignore'):
            ratio_jump = (mean > 0) & (xs > 0) & ((xs > JUMP * mean) | (xs * JUMP < mean))
            dead_jump = (np.abs(xs[:, 2] - mean[:, 2]) > DEAD_JUMP)[:, None]  # pyright: ignore[reportCallIssue] (numpy)
            jumped = valid & (n >= WARMUP) & np.concatenate([ratio_jump[:, :2], dead_jump], axis=1)
            clip = (n > 0) & (mean > 0) & ~was
            clip[:, 2] = False
            toward = np.where(clip, np.minimum(np.maximum(xs, mean / JUMP), mean * JUMP), xs)
            moved = np.where(n == 0, xs, mean + (toward - mean) * EMA_RATE)
        self.means[:rows] = np.where(valid, moved, mean)
        self.counts[:rows] += valid
        self.jumping[:rows] = np.where(valid, jumped, was)
        out = []
        hits = np.concatenate([rising, jumped & ~was], axis=1)
        if hits.any():
            values = np.stack([nf, dead, gamma, sat, ratio, gap], axis=1)
            for layer, k in np.argwhere(hits).tolist():
                value = values[layer, k] if k < 6 else xs[layer, k - 6]
                self._raise(out, KINDS[k], layer, seq, float(value))
        return out

    def loss(self, seq, value):
        """Events of one step's loss; `seq` is the sample the window centres on (the next one written)."""
        out = []
        finite = _finite(value)
        if finite and len(self.loss_start) < 3:
            self.loss_start.append(abs(value))
        start = sorted(self.loss_start)[len(self.loss_start) >> 1] if self.loss_start else 0.0
        exploding = finite and start > 0 and abs(value) > start * EXPLODING_LOSS_GROWTH
        kind = 'non-finite' if not finite else 'exploding' if exploding else None
        if kind is not None and kind not in self.loss_active:
            self._raise(out, kind, None, seq, value)
        self.loss_active = {kind} if kind else set()
        if finite:
            n = self.loss_steps
            if n == 0:
                self.loss_mean = value
            else:
                delta = value - self.loss_mean
                if n >= LOSS_WARMUP and delta > LOSS_SPIKE * self.loss_dev and delta > 0.1 * abs(self.loss_mean):
                    self._raise(out, 'loss-spike', None, seq, value)
                self.loss_mean += delta * LOSS_RATE
                self.loss_dev += (abs(delta) - self.loss_dev) * LOSS_RATE
            self.loss_steps = n + 1
        return out


class Retention:
    """Which samples stay once they leave the recent window: every `stride`-th by sequence number, and every one in a
    protected window (the run's start, around events). Windows share a budget: one that does not fit evicts windows of
    lower priority (jumps and spikes give way to the detectors' conditions), the latest first; the earliest onsets,
    the likely causes, stay. The writer doubles `stride` while the history is over its budget."""

    def __init__(self, budget):
        self.budget = budget
        self.recent_limit = budget // 4
        self.segment_limit = max(1, self.recent_limit // 4)
        self.protect_limit = budget // 4
        self.history_limit = (
            budget - self.recent_limit - 2 * self.segment_limit
        )  # recent: the window + a closed and an open segment
        self.stride = 1
        self.windows = []  # [start, end, priority] in order of admission
        self._merge()

    def _merge(self):
        """The union of the windows and the run's start as sorted disjoint [start, end]; returns its sample count."""
        spans = sorted([(0, START_SAMPLES - 1)] + [(lo, hi) for lo, hi, _ in self.windows])
        starts, ends = [], []
        for lo, hi in spans:
            if ends and lo <= ends[-1] + 1:
                ends[-1] = max(ends[-1], hi)
            else:
                starts.append(lo)
                ends.append(hi)
        self.starts, self.ends = starts, ends
        self.protected = sum(e - s + 1 for s, e in zip(starts, ends))
        return self.protected

    def protect(self, seq, record_bytes, priority):
        """Protects the window around sample `seq` if it fits, evicting lower-priority windows; True when protected."""
        lo, hi = max(0, seq - BEFORE), seq + AFTER
        for w in self.windows:
            if (
                w[0] == lo and w[1] == hi
            ):  # the same window (several layers' events at one sample): at the higher priority
                w[2] = max(w[2], priority)
                return True
        kept = self.windows
        order = sorted((i for i, w in enumerate(kept) if w[2] < priority), key=lambda i: (kept[i][2], -i))
        evicted = set()
        self.windows = kept + [[lo, hi, priority]]
        while self._merge() * record_bytes > self.protect_limit:
            if not order:
                self.windows = kept
                self._merge()
                return False
            evicted.add(order.pop(0))
            self.windows = [w for i, w in enumerate(kept) if i not in evicted] + [[lo, hi, priority]]
        return True

    def is_protected(self, seq):
        i = bisect.bisect_right(self.starts, seq) - 1
        return i >= 0 and seq <= self.ends[i]

    def keeps(self, seq, stride=None):
        return seq % (stride or self.stride) == 0 or self.is_protected(seq)
