/**
 * `rough-landscape` (info): a model with no normalization layer where, at ROUGH_SHARE or more of the probed steps
 * (at least ROUGH_MIN_STEPS), the loss band along the gradient (./formulas lossBand: max − min of
 * L(w − s·η·∇L(w)) over s ∈ 0.25…4) spans more than ROUGH_RELATIVE_SPAN times the loss at the first probe.
 */
import type { Finding, LayerInfo } from '../../protocol/run';
import type { LandscapeReport } from '../../protocol/landscape';
import { lossBand } from './formulas';

/**
 * X = 0.5: a step of up to 4× the optimizer's changes the loss by more than half of the loss training started
 * from (the first probe's; dividing by the current loss instead would flag every model whose loss got small).
 * Where it comes from: Santurkar et al. 2018 (Fig. 4a) show a plain deep network's band spanning a large part of
 * the loss while the BatchNorm network's stays thin, but give no number; NormScope set X from its reproduction of
 * that figure (test/unit/landscape-reproduction.test.ts, README "Loss landscape"): seed 3, 40 probes over 120
 * steps, the 10-layer plain ReLU net at SGD(0.1) exceeds 0.5 at 19 of 40 probes (up to 2.7), the same net with
 * BatchNorm at none (at most 0.36).
 */
export const ROUGH_RELATIVE_SPAN = 0.5;
export const ROUGH_SHARE = 0.1;
export const ROUGH_MIN_STEPS = 2;

/** The loss band's width at each probed step that has one, divided by the loss at the first probe (where training started). */
export function relativeSpans(report: LandscapeReport): number[] {
  const start = report.samples.find((s) => s.loss !== null && Math.abs(s.loss) > 0)?.loss;
  if (!start) return [];
  const out: number[] = [];
  for (const s of report.samples) {
    const band = lossBand(s.losses);
    if (band) out.push((band.max - band.min) / Math.abs(start));
  }
  return out;
}

export function landscapeFindings(layers: LayerInfo[], report: LandscapeReport | undefined, threshold = ROUGH_RELATIVE_SPAN): Finding[] {
  if (!report || layers.some((l) => l.isNorm)) return [];
  const spans = relativeSpans(report);
  const rough = spans.filter((v) => v > threshold);
  if (rough.length < Math.max(ROUGH_MIN_STEPS, Math.ceil(ROUGH_SHARE * spans.length))) return [];
  // Anchor on the first hidden weight layer: where the quick fix inserts a norm.
  const weighted = layers.filter((l) => l.paramCount > 0);
  const anchor = weighted.length > 1 ? weighted[0] : undefined;
  // relativeSpans has one entry per sample with a band, in order.
  const first = report.samples.filter((s) => lossBand(s.losses))[spans.findIndex((v) => v > threshold)];
  const sizes = `${Math.min(...report.stepSizes)}×–${Math.max(...report.stepSizes)}×`;
  return [
    {
      kind: 'rough-landscape',
      severity: 'info',
      layer: anchor?.name ?? null,
      step: first?.step ?? report.samples[0].step,
      message:
        `Rough loss landscape: at ${rough.length} of ${spans.length} probed steps, moving ${sizes} the optimizer's step along the gradient changed the loss ` +
        `by more than ${Math.round(threshold * 100)}% of the loss training started from (up to ${Math.round(Math.max(...rough) * 100)}%), and this model has no normalization layer. ` +
        'A smooth landscape is one where a small step along the gradient changes the loss and the gradient only a little, so the gradient ' +
        'predicts where the step lands and larger learning rates stay safe; BatchNorm and LayerNorm make the landscape smoother (Santurkar et al. 2018).',
      fix: 'Insert a BatchNorm (or LayerNorm) after the hidden layers, then run "Compare normalizations…" on it to measure BN, LN, GN and RMSNorm against each other on the same data, including over a learning-rate sweep.',
      ...(anchor ? { refactor: { action: 'insert-norm' as const, norm: 'batchNorm' as const } } : {}),
      source: anchor?.source ?? null,
    },
  ];
}
