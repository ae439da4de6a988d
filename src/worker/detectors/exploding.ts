/**
 * `exploding`: signals or gradients that grow without bound. Rules:
 * - AutoTrainer: gradient-norm ratio first/last weight layer > 70 (gradients grow toward the input);
 * - output variance growing > 10× per layer through depth (three or more layers in a row), or a
 *   hidden layer's output variance growing > 100× over the run to above 1;
 * - loss ≥ 1e3.
 * At most one finding per layer (earliest rule wins) plus one for the loss.
 */
import type { Finding, LayerInfo } from '../../protocol/run';
import { layerFinding, normToInsert, num, type RunStats } from './series';

const WHY =
  'Each layer multiplies the signal by roughly its weight scale × fan-in; when that factor is > 1 it compounds with depth (and over steps), ' +
  'until updates overshoot and values overflow to Inf/NaN.';

function fixFor(rs: RunStats, layer: LayerInfo): Pick<Finding, 'fix' | 'refactor'> {
  const hasNormAfter = rs.nextSignificant(layer.index)?.isNorm ?? false;
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

export function detectExploding(rs: RunStats): Finding[] {
  const found = new Map<string, Finding>();
  const add = (layer: LayerInfo, sample: number, what: string) => {
    const step = rs.step(sample);
    const prev = found.get(layer.name);
    if (prev && (prev.step ?? 0) <= step) return;
    found.set(
      layer.name,
      layerFinding(layer, { kind: 'exploding', severity: 'warning', step, message: `${what} ${WHY}`, ...fixFor(rs, layer) }),
    );
  };
  const weights = rs.weightLayers();

  // AutoTrainer gradient ratio.
  if (weights.length >= 2) {
    const first = weights[0];
    const last = weights[weights.length - 1];
    const ratio = (s: number) => rs.value(s, first.index, 'gradNorm') / rs.value(s, last.index, 'gradNorm');
    const s = rs.firstPersistent((k) => ratio(k) > rs.t.explodingRatio && Number.isFinite(ratio(k)));
    if (s >= 0)
      add(
        first,
        s,
        `The gradient norm of ${first.name} is ${num(ratio(s))}× that of ${last.name} (threshold ${num(rs.t.explodingRatio)}×): gradients grow on their way back to the input.`,
      );
  }

  // Variance growing through depth: ≥ 2 consecutive per-layer growth factors above the threshold.
  const growthRun = (s: number): { start: LayerInfo; end: LayerInfo; factor: number } | null => {
    let run: LayerInfo[] = [];
    const done = () => {
      if (run.length < 3) return null;
      const ratio = rs.value(s, run[run.length - 1].index, 'variance') / rs.value(s, run[0].index, 'variance');
      return { start: run[1], end: run[run.length - 1], factor: Math.pow(ratio, 1 / (run.length - 1)) };
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
      prev = v >= 0 ? { layer, variance: v } : null;
    }
    return done();
  };
  const depthSample = rs.firstPersistent((s) => growthRun(s) !== null);
  if (depthSample >= 0) {
    const g = growthRun(depthSample)!;
    add(
      g.start,
      depthSample,
      `Output variance grows ${num(g.factor)}× per layer from ${g.start.name} to ${g.end.name} (threshold ${num(rs.t.varianceGrowthPerLayer)}× per layer).`,
    );
  }

  // Variance growing over the run, to above unit scale (a tiny variance growing is not an explosion).
  // The model's output layer is left out: it legitimately grows to the scale of the targets.
  for (const layer of rs.layers.slice(0, -1)) {
    const v = rs.series(layer.index, 'variance');
    const base = v.findIndex((x) => x > 0 && Number.isFinite(x));
    if (base < 0) continue;
    const s = rs.firstPersistent((k) => k > base && v[k] > 1 && v[k] / v[base] > rs.t.varianceGrowthOverRun);
    if (s >= 0)
      add(
        layer,
        s,
        `The output variance of ${layer.name} grew ${num(v[s] / v[base])}× since step ${rs.step(base)} (threshold ${num(rs.t.varianceGrowthOverRun)}×).`,
      );
  }

  const out = [...found.values()];
  const lossStep = rs.input.loss.findIndex((l) => Number.isFinite(l) && l >= rs.t.explodingLoss);
  if (lossStep >= 0) {
    out.push({
      kind: 'exploding',
      severity: 'warning',
      layer: null,
      step: lossStep,
      source: null,
      message:
        `The loss reached ${num(rs.input.loss[lossStep])} at step ${lossStep} (threshold ${num(rs.t.explodingLoss)}). ` +
        'A loss this large means outputs are far off scale: activations or updates are blowing up.',
      fix: 'Lower the learning rate, clip gradients, normalize inputs/targets, and add normalization layers to keep activations in range.',
    });
  }
  return out;
}
