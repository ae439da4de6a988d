/**
 * `exploding`: signals or gradients that grow without bound. Rules:
 * - AutoTrainer: gradient-norm ratio first/last weight layer > 70 (gradients grow toward the input);
 * - output variance growing > 10× per layer through depth (three or more layers in a row), or a hidden layer's
 *   output variance growing > 100× over the run. Growth counts from unit scale at the least: from a small start up
 *   to ~1 is a network reaching its working scale (a VAE's latent means grow from 0.02 to 1.4 and its decoder's
 *   logits from 0.05 to 14 while it learns), and 1e-8 growing to 1e-5 explodes nothing. A layer that feeds a
 *   normalization layer counts for neither: the norm
 *   divides its scale out, so nothing compounds past it (conv weights before BatchNorm grow freely under Adam —
 *   BN makes their scale irrelevant — and their outputs with them);
 * - the loss growing to more than 100× where it started, persistently. Its scale is the model's and the loss's (a
 *   VAE's loss summed over the batch and pixels starts near 1e5 and falls), so only growth relative to its own start
 *   counts: a reduction or a scale factor multiplies every value alike.
 * At most one finding per layer (earliest rule wins) plus one for the loss.
 */
import type { Finding, LayerInfo } from '../../protocol/run';
import { layerFinding, normToInsert, num, type RunStats } from './series';

const WHY =
  'Each layer multiplies the signal by roughly its weight scale × fan-in; when that factor is > 1 it compounds with depth (and over steps), ' +
  'until updates overshoot and values overflow to Inf/NaN.';

function fixFor(rs: RunStats, layer: LayerInfo): Pick<Finding, 'fix' | 'refactor'> {
  const hasNormAfter = rs.feedsNorm(layer);
  const norm = normToInsert(layer, rs.input.batchSize);
  return hasNormAfter
    ? {
        fix: `Lower the learning rate, clip gradients (${rs.words.clip}), and scale the weight initialization down (e.g. ${rs.words.init}).`,
      }
    : {
        fix: `Insert ${rs.normName(norm, layer)} after the weight layers so every layer sees unit-scale inputs, use a variance-preserving initializer (${rs.words.init}), and clip gradients (${rs.words.clip}).`,
        refactor: { action: 'insert-norm', norm },
      };
}

/** One rule's finding on one layer: where (sample index) and what it saw. */
interface Hit {
  layer: LayerInfo;
  sample: number;
  what: string;
}

export function detectExploding(rs: RunStats): Finding[] {
  // At most one finding per layer: the earliest step wins, and among the same step the rule listed first.
  const found = new Map<string, Finding>();
  for (const { layer, sample, what } of [...gradientRatio(rs), ...growthThroughDepth(rs), ...growthOverRun(rs)]) {
    const step = rs.step(sample);
    const prev = found.get(layer.name);
    if (prev && (prev.step ?? 0) <= step) continue;
    found.set(
      layer.name,
      layerFinding(layer, { kind: 'exploding', severity: 'warning', step, message: `${what} ${WHY}`, ...fixFor(rs, layer) }),
    );
  }
  const out = [...found.values()];
  const loss = explodingLoss(rs);
  if (loss) out.push(loss);
  return out;
}

/**
 * AutoTrainer's gradient ratio first/last weight layer, over a last layer whose own gradient is not starved (below
 * the vanishing floor a ratio measures the denominator, not growth).
 */
function gradientRatio(rs: RunStats): Hit[] {
  const weights = rs.weightLayers();
  if (weights.length < 2) return [];
  const first = weights[0];
  const last = weights[weights.length - 1];
  const lastGradient = (s: number) => rs.value(s, last.index, 'gradNorm');
  const ratio = (s: number) => rs.value(s, first.index, 'gradNorm') / lastGradient(s);
  const floor = rs.t.vanishingGradient * Math.sqrt(last.paramCount);
  const s = rs.firstPersistent((k) => ratio(k) > rs.t.explodingRatio && Number.isFinite(ratio(k)) && lastGradient(k) >= floor);
  if (s < 0) return [];
  return [
    {
      layer: first,
      sample: s,
      what: `The gradient norm of ${first.name} is ${num(ratio(s))}× that of ${last.name} (threshold ${num(rs.t.explodingRatio)}×): gradients grow on their way back to the input.`,
    },
  ];
}

/** Variance growing through depth: ≥ 2 consecutive per-layer growth factors above the threshold, persistently. */
function growthThroughDepth(rs: RunStats): Hit[] {
  const weights = rs.weightLayers();
  const depthSample = rs.firstPersistent((s) => growthRun(rs, weights, s) !== null);
  if (depthSample < 0) return [];
  const g = growthRun(rs, weights, depthSample)!;
  return [
    {
      layer: g.start,
      sample: depthSample,
      what: `Output variance grows ${num(g.factor)}× per layer from ${g.start.name} to ${g.end.name} (threshold ${num(rs.t.varianceGrowthPerLayer)}× per layer).`,
    },
  ];
}

/** The first run of three or more of `weights` whose output variance grows by the threshold per layer at sample `s`. */
function growthRun(rs: RunStats, weights: LayerInfo[], s: number): { start: LayerInfo; end: LayerInfo; factor: number } | null {
  let run: LayerInfo[] = [];
  const done = () => {
    if (run.length < 3) return null;
    const from = Math.max(rs.value(s, run[0].index, 'variance'), 1);
    const factor = Math.pow(rs.value(s, run[run.length - 1].index, 'variance') / from, 1 / (run.length - 1));
    return factor > rs.t.varianceGrowthPerLayer ? { start: run[1], end: run[run.length - 1], factor } : null;
  };
  let prev: { layer: LayerInfo; variance: number } | null = null;
  for (const layer of weights) {
    const v = rs.value(s, layer.index, 'variance');
    const grows = v >= 0 && prev !== null && prev.variance > 0 && v / prev.variance > rs.t.varianceGrowthPerLayer;
    if (grows) {
      if (run.length === 0) run.push(prev!.layer);
      run.push(layer);
    } else {
      const found = done();
      if (found) return found;
      run = [];
    }
    prev = v >= 0 && !rs.feedsNorm(layer) ? { layer, variance: v } : null;
  }
  return done();
}

/**
 * Variance growing over the run, from its start or unit scale, whichever is larger. A model's output layer is left
 * out: it legitimately grows to the scale of the targets.
 */
function growthOverRun(rs: RunStats): Hit[] {
  const hits: Hit[] = [];
  for (const layer of rs.layers) {
    if (rs.isOutput(layer) || rs.feedsNorm(layer)) continue;
    const v = rs.series(layer.index, 'variance');
    const base = v.findIndex((x) => x > 0 && Number.isFinite(x));
    if (base < 0) continue;
    const from = Math.max(v[base], 1);
    const s = rs.firstPersistent((k) => k > base && v[k] / from > rs.t.varianceGrowthOverRun);
    if (s < 0) continue;
    hits.push({
      layer,
      sample: s,
      what: `The output variance of ${layer.name} grew to ${num(v[s])}, ${num(v[s] / from)}× ${v[base] >= 1 ? `what it was at step ${rs.step(base)}` : 'unit scale'} (threshold ${num(rs.t.varianceGrowthOverRun)}×).`,
    });
  }
  return hits;
}

/**
 * The loss above `explodingLossGrowth`× its starting level (the median |loss| of the first three finite steps, so
 * one odd first batch does not set it) at `persistence` steps in a row: a loss that spikes once and recovers was one
 * bad batch. Magnitudes, so a loss that may be negative (a critic's) counts by its size.
 */
function explodingLoss(rs: RunStats): Finding | null {
  const losses = rs.input.loss;
  const first = losses
    .filter(Number.isFinite)
    .slice(0, 3)
    .map(Math.abs)
    .sort((a, b) => a - b);
  if (first.length === 0) return null;
  const start = first[first.length >> 1];
  const limit = start * rs.t.explodingLossGrowth;
  if (!(limit > 0)) return null; // a loss of exactly 0 at the start has no scale to grow from
  let run = 0;
  for (let step = 0; step < losses.length; step++) {
    run = Math.abs(losses[step]) > limit ? run + 1 : 0;
    if (run < Math.min(rs.t.consecutiveSamples, losses.length)) continue;
    const at = step - run + 1;
    return {
      kind: 'exploding',
      severity: 'warning',
      layer: null,
      step: at,
      source: null,
      message:
        `The loss grew to ${num(losses[at])} at step ${at}, ${num(Math.abs(losses[at]) / start)}× where it started (${num(start)}; threshold ${num(rs.t.explodingLossGrowth)}×), ` +
        `and stayed there for ${run} steps. A loss growing by orders of magnitude means outputs are running off scale: activations or updates are blowing up.`,
      fix: 'Lower the learning rate, clip gradients, normalize inputs/targets, and add normalization layers to keep activations in range.',
    };
  }
  return null;
}
