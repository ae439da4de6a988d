/**
 * `rough-landscape` (info): a model with no normalization layer whose loss, probed along the gradient
 * (./formulas lossBand), varies by more than ROUGH_RELATIVE_SPAN of the loss itself, on the median probed step.
 */
import type { Finding, LayerInfo } from '../../protocol/run';
import type { LandscapeReport } from '../../protocol/landscape';
import { lossBand } from './formulas';

/**
 * X = 0.25: the band max − min of L(w − s·η·∇L(w)) over s ∈ 0.25…4 exceeds a quarter of L(w). Where it comes from:
 * Santurkar et al. 2018 (Fig. 4a) show the band of a plain deep network spanning a large part of the loss while
 * the BatchNorm network's band stays thin; the paper gives no number, so X was set between the two groups
 * NormScope measures on its reproduction (test/unit/landscape-reproduction.test.ts, README "Loss landscape"):
 * the 10-layer plain ReLU net at SGD(0.05) measures a median relative span of about 0.4 or more over the run,
 * the same net with BatchNorm under 0.1.
 */
export const ROUGH_RELATIVE_SPAN = 0.25;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The relative loss span (band width ÷ |L(w)|) at each probed step that has one. */
export function relativeSpans(report: LandscapeReport): number[] {
  const out: number[] = [];
  for (const s of report.samples) {
    const band = lossBand(s.losses);
    if (band && s.loss !== null && Math.abs(s.loss) > 0) out.push((band.max - band.min) / Math.abs(s.loss));
  }
  return out;
}

export function landscapeFindings(layers: LayerInfo[], report: LandscapeReport | undefined, threshold = ROUGH_RELATIVE_SPAN): Finding[] {
  if (!report || layers.some((l) => l.isNorm)) return [];
  const spans = relativeSpans(report);
  if (spans.length === 0) return [];
  const typical = median(spans);
  if (!(typical > threshold)) return [];
  // Anchor on the first hidden weight layer: where the quick fix inserts a norm.
  const weighted = layers.filter((l) => l.paramCount > 0);
  const anchor = weighted.length > 1 ? weighted[0] : undefined;
  const first = report.samples.find((s) => { const b = lossBand(s.losses); return b && s.loss && (b.max - b.min) / Math.abs(s.loss) > threshold; });
  const sizes = `${Math.min(...report.stepSizes)}×–${Math.max(...report.stepSizes)}×`;
  return [{
    kind: 'rough-landscape',
    severity: 'info',
    layer: anchor?.name ?? null,
    step: first?.step ?? report.samples[0].step,
    message: `Rough loss landscape: moving ${sizes} the optimizer's step along the gradient changes the loss by ${Math.round(typical * 100)}% of its value `
      + `(median over ${spans.length} probed steps; above ${Math.round(threshold * 100)}%), and this model has no normalization layer. `
      + 'A smooth landscape is one where a small step along the gradient changes the loss and the gradient only a little, so the gradient '
      + 'predicts where the step lands and larger learning rates stay safe; BatchNorm and LayerNorm make the landscape smoother (Santurkar et al. 2018).',
    fix: 'Insert a BatchNorm (or LayerNorm) after the hidden layers, then run "Compare normalizations…" on it to measure BN, LN, GN and RMSNorm against each other on the same data, including over a learning-rate sweep.',
    ...(anchor ? { refactor: { action: 'insert-norm' as const, norm: 'batchNorm' as const } } : {}),
    source: anchor?.source ?? null,
  }];
}
