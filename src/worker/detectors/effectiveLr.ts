/**
 * `effective-lr`: the step size each layer actually takes, ‖ΔW‖/‖W‖ per step, outside the healthy
 * band [1e-5, 1e-1] (DeepDiagnosis). Judged on the median over the run so one odd step does not count.
 * Steps that are too large are reported per layer; steps that are too small usually share one
 * cause (the learning rate), so they are reported once, naming how many layers are affected.
 * For weights feeding a normalization layer the output does not depend on ‖W‖, so the gradient
 * shrinks as ‖W‖ grows and the effective learning rate is ≈ lr/‖W‖² (Ba et al. 2016, Layer
 * Normalization: "the norm of the weight vector effectively controls the learning rate").
 */
import type { Finding, LayerInfo } from '../../protocol/run';
import { layerFinding, num, type RunStats } from './series';

function median(xs: number[]): number {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** `explained`: layers whose small updates another finding (dead, vanishing) already accounts for. */
export function detectEffectiveLr(rs: RunStats, explained: (layer: LayerInfo) => boolean): Finding[] {
  const out: Finding[] = [];
  const low: { layer: LayerInfo; med: number; first: number }[] = [];
  const lr = rs.input.learningRate;
  const lrText = lr !== undefined ? `, lr = ${num(lr)}` : '';
  const band = `healthy ${num(rs.t.updateRatioMin)}–${num(rs.t.updateRatioMax)}`;
  const feedsNorm = (layer: LayerInfo) => rs.nextSignificant(layer.index)?.isNorm ?? false;
  const normWhy = (layer: LayerInfo, tooLow: boolean) =>
    ` ${layer.name} feeds a normalization layer, which makes its output independent of ‖W‖: ` +
    `the gradient scales as 1/‖W‖, so the effective learning rate is ≈ lr/‖W‖² (‖W‖ = ${num(median(rs.series(layer.index, 'weightNorm')))} here)` +
    (tooLow ? '; weights that grow large slow their own learning.' : '; weights shrunk small (e.g. by L2) speed it up.');

  for (const layer of rs.weightLayers()) {
    const ratios = rs.series(layer.index, 'updateRatio');
    const med = median(ratios);
    if (!Number.isFinite(med)) continue;
    if (med < rs.t.updateRatioMin) {
      if (!explained(layer))
        low.push({
          layer,
          med,
          first: Math.max(
            0,
            ratios.findIndex((r) => r < rs.t.updateRatioMin),
          ),
        });
      continue;
    }
    if (med <= rs.t.updateRatioMax) continue;
    const first = Math.max(
      0,
      ratios.findIndex((r) => r > rs.t.updateRatioMax),
    );
    out.push(
      layerFinding(layer, {
        kind: 'effective-lr',
        severity: 'warning',
        step: rs.step(first),
        message:
          `Each step changes ${layer.name}'s weights by ${num(med)} of their norm (median ‖ΔW‖/‖W‖; ${band}${lrText}). ` +
          'Steps this large overshoot: the weights are rewritten every few steps instead of refined, which makes training noisy or divergent.' +
          (feedsNorm(layer) ? normWhy(layer, false) : ''),
        fix:
          'Lower the learning rate (or use a warm-up), or clip gradients.' +
          (feedsNorm(layer)
            ? ' Avoid shrinking these weights with strong L2: with a norm after them, a small ‖W‖ only raises the effective step.'
            : ''),
      }),
    );
  }
  if (low.length > 0) {
    const pick = low.find((l) => feedsNorm(l.layer)) ?? low[0];
    const others = low.length - 1;
    out.push(
      layerFinding(pick.layer, {
        kind: 'effective-lr',
        severity: 'info',
        step: rs.step(Math.min(...low.map((l) => l.first))),
        message:
          `Each step changes ${pick.layer.name}'s weights by ${num(pick.med)} of their norm (median ‖ΔW‖/‖W‖; ${band}${lrText})` +
          (others > 0 ? `, and ${others} more layer(s) update as little` : '') +
          '. ' +
          'Steps this small mean the weights are effectively frozen and learn nothing in a realistic number of steps.' +
          (feedsNorm(pick.layer) ? normWhy(pick.layer, true) : ''),
        fix:
          'Raise the learning rate or use an adaptive optimizer (Adam).' +
          (feedsNorm(pick.layer)
            ? ' Keep ‖W‖ from growing: a little weight decay before a norm layer controls the effective learning rate (it does not regularize).'
            : ''),
      }),
    );
  }
  return out;
}
