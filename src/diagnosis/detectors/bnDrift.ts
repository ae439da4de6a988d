/**
 * `bn-train-inference-drift`: BatchNorm's moving mean/variance (used at inference) far from the batch
 * statistics it normalizes with in training at the end of the run, so `model.predict` normalizes
 * differently from `model.fit`. Thresholds: mean off by > 0.5 batch σ, or variance off by > 50 %
 * (definitions in src/worker/stats/norm.ts), averaged over the last samples.
 * The engines take the gaps against the moving averages without what is left of their initial values
 * (0 and 1, which a short run has not forgotten: 0.9^5 of them after 5 PyTorch steps, 0.99^50 after 50 tfjs ones),
 * so warm-up is not drift by construction. What remains has three causes, told apart by the run:
 * - several batches per step (`movingUpdates` grows faster than the steps): the averages mix the inputs of one
 *   step, e.g. a GAN discriminator's real and generated images, by design. Information: it matters only where
 *   that network runs in eval mode.
 * - a batch under 16: each batch's statistics are too noisy for any average to represent (Wu & He 2018).
 * - otherwise the batch statistics move faster than the averages follow. Early training does that for a while
 *   (VGG11's last BatchNorm: 84 % at step 40, 11 % from step 100 on), so it counts only when it lasts three time
 *   constants of the averages (3 / weight steps, in which they forget 95 % of what came before) with the averages
 *   warm all along (under 5 % of their initial values left) — a run shorter than that cannot tell.
 */
import type { Finding, LayerInfo, StatName } from '../../protocol/run';
import { batchFreeNorm, layerFinding, num, type RunStats } from './series';

/** Fewer samples than this cannot tell a gap from one odd batch. */
const MIN_SAMPLES = 3;
/** Below this batch size BatchNorm's batch statistics are unreliable (Wu & He 2018; the bn-small-batch rule). */
const SMALL_BATCH = 16;
/** Updates per step above this: the layer normalizes several batches in each step. */
const SEVERAL_PER_STEP = 1.25;
/** The averages count as warm once less than this share of their initial values is left (e^-3). */
const WARM = 0.05;
/** Time constants (1 / weight steps each) a lag must last to be more than early training's transient. */
const LAG_TIME_CONSTANTS = 3;

interface Point {
  step: number;
  gap: number;
  updates: number;
}

function points(rs: RunStats, layer: number, stat: StatName): Point[] {
  return rs.samples
    .map((s, i) => ({ step: s.step, gap: rs.value(i, layer, stat), updates: rs.value(i, layer, 'movingUpdates') }))
    .filter((p) => Number.isFinite(p.gap));
}

/** The gap over the last samples, when there are enough and it is above `threshold`. */
function level(ps: Point[], threshold: number): number | null {
  if (ps.length < MIN_SAMPLES) return null;
  const tail = ps.slice(-MIN_SAMPLES);
  const mean = tail.reduce((a, p) => a + p.gap, 0) / tail.length;
  return mean > threshold ? mean : null;
}

/** Moving-average updates per step over the run (1 for a layer run once per step), or NaN when not reported. */
function updatesPerStep(ps: Point[]): number {
  const counted = ps.filter((p) => Number.isFinite(p.updates));
  if (counted.length < 2) return NaN;
  const first = counted[0];
  const last = counted[counted.length - 1];
  return last.step > first.step ? (last.updates - first.updates) / (last.step - first.step) : NaN;
}

/**
 * Whether the gap stayed above `threshold` for the last three time constants of exponential averages with the layer's
 * weight, warm all along. Not for a cumulative average (PyTorch momentum=None, a deliberate choice that weighs
 * the whole run alike) or where the weight or the update count is not reported.
 */
function lagging(layer: LayerInfo, ps: Point[], threshold: number): boolean {
  const weight = layer.movingAverageWeight;
  if (typeof weight !== 'number' || !(weight > 0 && weight < 1) || ps.length === 0) return false;
  const from = ps[ps.length - 1].step - LAG_TIME_CONSTANTS / weight;
  if (ps[0].step > from) return false; // the run is shorter than that
  return ps
    .filter((p) => p.step >= from)
    .every((p) => p.gap > threshold && Number.isFinite(p.updates) && Math.pow(1 - weight, p.updates) <= WARM);
}

type Cause = 'several' | 'small-batch' | 'lagging';

export function detectBnDrift(rs: RunStats): Finding[] {
  const out: Finding[] = [];
  for (const layer of rs.layers) {
    if (layer.className !== 'BatchNormalization') continue;
    const meanPoints = points(rs, layer.index, 'movingMeanGap');
    const varPoints = points(rs, layer.index, 'movingVarGap');
    const perStep = updatesPerStep(meanPoints);
    const cause: Cause = perStep > SEVERAL_PER_STEP ? 'several' : rs.input.batchSize < SMALL_BATCH ? 'small-batch' : 'lagging';
    const judged = (ps: Point[], threshold: number) =>
      cause === 'lagging' && !lagging(layer, ps, threshold) ? null : level(ps, threshold);
    const mean = judged(meanPoints, rs.t.driftMeanGap);
    const variance = judged(varPoints, rs.t.driftVarGap);
    if (mean === null && variance === null) continue;
    const parts = [
      mean !== null ? `moving mean is ${num(mean)} batch σ off the batch mean (threshold ${num(rs.t.driftMeanGap)})` : '',
      variance !== null
        ? `moving variance is ${Math.round(variance * 100)}% off the batch variance (threshold ${Math.round(rs.t.driftVarGap * 100)}%)`
        : '',
    ]
      .filter(Boolean)
      .join(' and ');
    const what =
      `At the end of the run ${layer.name}'s ${parts}. BatchNorm trains with each batch's statistics but predicts with moving averages, ` +
      'so inference will normalize differently from training.';
    out.push(
      layerFinding(layer, {
        kind: 'bn-train-inference-drift',
        step: rs.step(rs.samples.length - 1),
        ...explain(rs, layer, cause, what, perStep),
      }),
    );
  }
  return out;
}

function explain(
  rs: RunStats,
  layer: LayerInfo,
  cause: Cause,
  what: string,
  perStep: number,
): Pick<Finding, 'severity' | 'message' | 'fix' | 'refactor'> {
  if (cause === 'several')
    return {
      severity: 'info',
      message:
        `${what} Here the layer normalizes ${num(perStep)} batches per step (its moving averages are updated that often): ` +
        "different inputs of one step, such as a GAN discriminator's real and generated images, have different statistics, and the averages mix them. " +
        'That matters only where this network runs in eval mode; a discriminator that is only trained never does.',
      fix: 'If this network is used for inference, pass the inputs of a step through it as one batch (concatenate them) so that the averages describe the data it will see.',
    };
  if (cause === 'small-batch') {
    const to = batchFreeNorm(layer);
    return {
      severity: 'warning',
      message: `${what} Here each batch has ${rs.input.batchSize} examples: its statistics jump from step to step, so no moving average can represent them.`,
      fix: `Use a normalization that does not depend on the batch (${to === 'groupNorm' ? 'GroupNorm' : 'LayerNorm'}), or train with batches of ${SMALL_BATCH} or more.`,
      refactor: { action: 'swap', to },
    };
  }
  const weight = layer.movingAverageWeight ?? NaN;
  return {
    severity: 'warning',
    message:
      `${what} Here the averages lag behind: for the last ${Math.round(LAG_TIME_CONSTANTS / weight)} steps, in which they forget 95% of what came before ` +
      `(each new batch weighs ${num(weight)}), the batch statistics have kept moving faster than they follow, which a high learning rate causes.`,
    fix: `Lower the learning rate toward the end of training, let the averages follow faster (${rs.words.fasterAverages}), or recompute them on training data before inference.`,
  };
}
