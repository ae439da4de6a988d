/**
 * `vanishing`: gradients too small to train the early layers.
 * Rules: SageMaker Debugger VanishingGradient / DeepDiagnosis — mean |gradient| < 1e-7 (here the
 * RMS gradient ‖∂L/∂W‖/√n, which bounds the mean |g| from above) while also under 1e-3 (AutoTrainer's β₁) of the
 * strongest layer's: gradients scale with the loss (a loss summed instead of averaged, targets in small units), so
 * an absolute value alone would call a whole model starved that Adam trains as well at any scale; vanishing is
 * the gradient shrinking on its way back through depth. AutoTrainer — gradient-norm ratio first/last weight layer
 * < 1e-3 while the first layer's gradient norm is < 1e-4.
 * One finding per run, on the earliest starved layer: the layers below it share its problem.
 * Layers upstream of a fully dead layer are skipped: no gradient crosses a dead layer, and the
 * `dead` finding already says so.
 */
import type { Finding, LayerInfo } from '../../protocol/run';
import { layerFinding, normToInsert, num, type RunStats } from './series';

const WHY =
  'Each layer multiplies the backward signal by its local slope; with saturating activations (sigmoid/tanh) or poorly scaled weights ' +
  'these factors are < 1 and the gradient shrinks geometrically with depth, so the early layers stop learning.';

function rmsGradient(rs: RunStats, layer: LayerInfo, s: number): number {
  return rs.value(s, layer.index, 'gradNorm') / Math.sqrt(layer.paramCount);
}

/** `blockedBelow`: index of the deepest fully dead layer, or -1. */
export function detectVanishing(rs: RunStats, blockedBelow = -1): Finding[] {
  const weights = rs.weightLayers().filter((l) => l.index > blockedBelow);
  if (weights.length === 0) return [];
  // Per-layer rule: persistently tiny gradients.
  let best: { layer: LayerInfo; sample: number; starved: number } | null = null;
  const strongest = (s: number) => Math.max(...weights.map((l) => rmsGradient(rs, l, s)).filter(Number.isFinite));
  const starvedFrom = (l: LayerInfo) =>
    rs.firstPersistent(
      (s) => rmsGradient(rs, l, s) < Math.min(rs.t.vanishingGradient, rs.t.vanishingRatio * strongest(s)),
      (s) => !Number.isNaN(rmsGradient(rs, l, s)),
    );
  const starved = weights.filter((l) => starvedFrom(l) >= 0);
  if (starved.length > 0) {
    best = { layer: starved[0], sample: starvedFrom(starved[0]), starved: starved.length };
  }
  if (best) {
    const { layer, sample } = best;
    return [
      finding(
        rs,
        layer,
        sample,
        `The RMS gradient of ${layer.name}'s weights is ${num(rmsGradient(rs, layer, sample))} (< ${num(rs.t.vanishingGradient)})` +
          (best.starved > 1 ? `, and ${best.starved - 1} more layer(s) are just as starved` : '') +
          '.',
      ),
    ];
  }
  // Ratio rule: gradient at the input end tiny compared with the output end.
  if (weights.length < 2) return [];
  const first = weights[0];
  const last = weights[weights.length - 1];
  const ratio = (s: number) => rs.value(s, first.index, 'gradNorm') / rs.value(s, last.index, 'gradNorm');
  const sample = rs.firstPersistent(
    (s) => ratio(s) < rs.t.vanishingRatio && rs.value(s, first.index, 'gradNorm') < rs.t.vanishingFirstGradient,
  );
  if (sample < 0) return [];
  return [
    finding(
      rs,
      first,
      sample,
      `The gradient norm of ${first.name} (${num(rs.value(sample, first.index, 'gradNorm'))}) is ${num(ratio(sample))}× that of ${last.name} ` +
        `(thresholds: ratio < ${num(rs.t.vanishingRatio)}, first < ${num(rs.t.vanishingFirstGradient)}).`,
    ),
  ];
}

function finding(rs: RunStats, layer: LayerInfo, sample: number, what: string): Finding {
  const hasNormAfter = rs.feedsNorm(layer);
  const norm = normToInsert(layer, rs.input.batchSize);
  return layerFinding(layer, {
    kind: 'vanishing',
    severity: 'warning',
    step: rs.step(sample),
    message: `${what} ${WHY}`,
    fix:
      (hasNormAfter
        ? ''
        : `Insert ${rs.normName(norm, layer)} after the weight layers so pre-activations stay in the non-saturated range; `) +
      `prefer ReLU-family activations with He initialization (${rs.words.heInit}), or add residual connections.`,
    ...(hasNormAfter ? {} : { refactor: { action: 'insert-norm' as const, norm } }),
  });
}
