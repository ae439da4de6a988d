/**
 * `effective-lr`: the step size each layer actually takes, ‖ΔW‖/‖W‖ per step, outside the healthy
 * band [1e-5, 1e-1] (DeepDiagnosis). Judged on the median over the run so one odd step does not count.
 * Steps that are too large are reported per layer, when the loss is not falling: the harm of large steps is
 * overshooting, which shows in the loss, and the first steps of healthy training are large by nature (weights at
 * their initial scale, gradients at their largest, an adaptive optimizer's second moments still warming up —
 * what learning-rate warm-up is for; the MNIST example's Adadelta at lr 1.0 moves its big dense layer by 0.12 a step
 * while the loss falls from 2.6 to 1.8). Steps that are too small usually share one
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

/**
 * Whether the loss fell over the run: the median of its last few steps at least a tenth below that of its first few.
 * Only for positive losses (a critic's or a log-likelihood's may go negative, where "a tenth lower" means nothing).
 */
function lossFalling(rs: RunStats): boolean {
  const loss = rs.input.loss.filter(Number.isFinite);
  const k = Math.max(1, Math.min(3, loss.length >> 1));
  const [start, end] = [median(loss.slice(0, k)), median(loss.slice(-k))];
  return loss.length >= 2 && start > 0 && end > 0 && end < 0.9 * start;
}

/** `explained`: layers whose small updates another finding (dead, vanishing) already accounts for. */
export function detectEffectiveLr(rs: RunStats, explained: (layer: LayerInfo) => boolean): Finding[] {
  const out: Finding[] = [];
  const low: { layer: LayerInfo; med: number; first: number }[] = [];
  const lr = rs.input.learningRate;
  const lrText = lr !== undefined ? `, lr = ${num(lr)}` : '';
  const band = `healthy ${num(rs.t.updateRatioMin)}–${num(rs.t.updateRatioMax)}`;
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
    if (med <= rs.t.updateRatioMax || lossFalling(rs)) continue;
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
          'Steps this large overshoot: the weights are rewritten every few steps instead of refined, and the loss is not falling.' +
          (rs.feedsNorm(layer) ? normWhy(layer, false) : ''),
        fix:
          'Lower the learning rate (or use a warm-up), or clip gradients.' +
          (rs.feedsNorm(layer)
            ? ' Avoid shrinking these weights with strong L2: with a norm after them, a small ‖W‖ only raises the effective step.'
            : ''),
      }),
    );
  }
  if (low.length > 0) {
    const pick = low.find((l) => rs.feedsNorm(l.layer)) ?? low[0];
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
          (rs.feedsNorm(pick.layer) ? normWhy(pick.layer, true) : ''),
        fix:
          'Raise the learning rate or use an adaptive optimizer (Adam).' +
          (rs.feedsNorm(pick.layer)
            ? ' Keep ‖W‖ from growing: a little weight decay before a norm layer controls the effective learning rate (it does not regularize).'
            : ''),
      }),
    );
  }
  return out;
}
