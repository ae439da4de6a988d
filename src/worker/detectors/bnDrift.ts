/**
 * `bn-train-inference-drift`: BatchNorm's moving mean/variance (used at inference) far from the batch
 * statistics it normalizes with in training at the end of the run, so `model.predict` normalizes
 * differently from `model.fit`. Thresholds: mean off by > 0.5 batch σ, or variance off by > 50 %
 * (definitions in src/worker/stats/norm.ts), averaged over the last samples. A large gap alone is
 * not enough — moving averages start at (0, 1) and, with the default momentum 0.99, need ~460 steps
 * to forget that, so in a short run a shrinking gap is warm-up. It counts as drift when
 * - the batch statistics are noisy: the gap typically changes by more than 1.5× between consecutive
 *   samples (small batches — the averages cannot represent any single batch), or
 * - the gap is not closing: at the end it is above what momentum-0.99 warm-up would have left
 *   (×1.25 for noise) — the statistics move faster than the averages track (high LR, low momentum).
 */
import type { Finding, StatName } from '../../protocol/run';
import { batchFreeNorm, layerFinding, num, type RunStats } from './series';

/** Momentum of tfjs BatchNormalization by default; the slowest warm-up we excuse. */
const DEFAULT_MOMENTUM = 0.99;
/** Slack on the warm-up prediction for batch-to-batch noise. */
const WARMUP_SLACK = 1.25;
/** A series whose median step-to-step change exceeds this factor is dominated by batch noise. */
const NOISY_STEP = 1.5;
/** Fewer samples than this cannot tell warm-up from drift. */
const MIN_SAMPLES = 3;

type Cause = 'noisy' | 'lagging';

function judge(rs: RunStats, layer: number, stat: StatName, threshold: number): { level: number; cause: Cause } | null {
  const points = rs.samples.map((s, i) => ({ step: s.step, v: rs.value(i, layer, stat) })).filter((p) => Number.isFinite(p.v));
  if (points.length < MIN_SAMPLES) return null;
  const tail = points.slice(-Math.min(3, points.length));
  const level = tail.reduce((a, p) => a + p.v, 0) / tail.length;
  if (!(level > threshold)) return null;
  const jumps = points
    .slice(1)
    .map((p, i) => Math.abs(Math.log(p.v / points[i].v)))
    .filter(Number.isFinite)
    .sort((a, b) => a - b);
  if (jumps.length > 0 && jumps[jumps.length >> 1] > Math.log(NOISY_STEP)) return { level, cause: 'noisy' };
  const first = points[0];
  const last = points[points.length - 1];
  const warmupLeft = first.v * Math.pow(DEFAULT_MOMENTUM, last.step - first.step) * WARMUP_SLACK;
  return last.v > warmupLeft ? { level, cause: 'lagging' } : null;
}

export function detectBnDrift(rs: RunStats): Finding[] {
  const out: Finding[] = [];
  for (const layer of rs.layers) {
    if (layer.className !== 'BatchNormalization') continue;
    const mean = judge(rs, layer.index, 'movingMeanGap', rs.t.driftMeanGap);
    const variance = judge(rs, layer.index, 'movingVarGap', rs.t.driftVarGap);
    if (!mean && !variance) continue;
    const parts = [
      mean ? `moving mean is ${num(mean.level)} batch σ off the batch mean (threshold ${num(rs.t.driftMeanGap)})` : '',
      variance
        ? `moving variance is ${Math.round(variance.level * 100)}% off the batch variance (threshold ${Math.round(rs.t.driftVarGap * 100)}%)`
        : '',
    ]
      .filter(Boolean)
      .join(' and ');
    const noisy = mean?.cause === 'noisy' || variance?.cause === 'noisy';
    const small = rs.input.batchSize < 16;
    const why = noisy
      ? `each batch's statistics jump from step to step${small ? ` (batch size ${rs.input.batchSize})` : ''}, so no moving average can represent them`
      : 'the gap is not closing: the batch statistics move faster than the moving averages track them (high learning rate or low momentum)';
    out.push(
      layerFinding(layer, {
        kind: 'bn-train-inference-drift',
        severity: 'warning',
        step: rs.step(rs.samples.length - 1),
        message:
          `At the end of the run ${layer.name}'s ${parts}. BatchNorm trains with each batch's statistics but predicts with moving averages, ` +
          `so inference will normalize differently from training. Here ${why}.`,
        fix: noisy
          ? `Use a normalization that does not depend on the batch (${batchFreeNorm(layer) === 'groupNorm' ? 'GroupNorm' : 'LayerNorm'}), or train with batches of 16 or more.`
          : 'Lower the learning rate toward the end of training, raise momentum (0.99), or recompute the moving statistics on training data before inference.',
        ...(noisy ? { refactor: { action: 'swap' as const, to: batchFreeNorm(layer) } } : {}),
      }),
    );
  }
  return out;
}
