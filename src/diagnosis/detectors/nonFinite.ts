/**
 * `non-finite`: NaN or ±Inf in a layer's activations, gradients or weights, or in the loss.
 * Reported once, at the first step and the layer where it appeared (everything downstream follows).
 * NaN alone is ambiguous in `StepSample.values` (it also means "does not apply"), so a weight or
 * gradient norm counts as non-finite when it is ±Inf or turned NaN after having been finite — and only in a
 * sample that measured the layer at all: in a training script with several models (a GAN's generator and
 * discriminator), a step trains one of them and every stat of the other's layers is NaN. A NaN that no later sample
 * contradicts (the last steps of a run trained the other models: CycleGAN's three optimizers leave one
 * discriminator's weights unmeasured in the run's last two steps) counts, where the step did not measure the
 * layer's parameters, only with evidence that something broke: the loss from then on, or the layer's own outputs
 * later (NaN weights make NaN outputs wherever the layer runs).
 */
import type { Finding, StatName } from '../../protocol/run';
import { layerFinding, type RunStats } from './series';

const WHY =
  'Once a NaN or Inf appears it spreads to every layer it touches and training cannot continue; ' +
  'it usually comes from an update that is too large (learning rate, exploding gradients) or from dividing by a near-zero variance.';
const fix = (rs: RunStats) =>
  `Lower the learning rate, clip gradients (${rs.words.clip}), add normalization to keep activations bounded, ` +
  'and make sure norm layers have a non-zero epsilon.';

/** The first sample where a layer's stat is finite (Infinity: never), found once per (layer, stat): a stat that never
 * applies (a ReLU's weight norm) is NaN in every sample, and asking each sample's past again is quadratic in a long run. */
type FirstFinite = Map<string, number>;

function firstFinite(rs: RunStats, layer: number, stat: StatName, cache: FirstFinite): number {
  const key = `${layer}:${stat}`;
  let first = cache.get(key);
  if (first === undefined) {
    first = Infinity;
    for (let s = 0; s < rs.samples.length; s++) {
      if (Number.isFinite(rs.value(s, layer, stat))) {
        first = s;
        break;
      }
    }
    cache.set(key, first);
  }
  return first;
}

function becameNonFinite(rs: RunStats, layer: number, stat: StatName, sample: number, cache: FirstFinite): boolean {
  // Every measured layer has a count of non-finite outputs; NaN there means the step did not run the layer.
  if (Number.isNaN(rs.value(sample, layer, 'nonFinite'))) return false;
  const v = rs.value(sample, layer, stat);
  if (v === Infinity || v === -Infinity) return true;
  if (!Number.isNaN(v)) return false;
  if (firstFinite(rs, layer, stat, cache) >= sample) return false; // never finite before
  // NaN is absorbing: real NaN weights and gradients stay NaN. A stat that is finite again later was only
  // not measured in this sample (a GAN's frozen discriminator during the generator's step).
  const last = rs.samples.length - 1;
  for (let s = sample + 1; s <= last; s++) if (!Number.isNaN(rs.value(s, layer, stat))) return false;
  // The step measured the layer's parameters (their norm is there): its NaN gradient is real.
  if (stat !== 'weightNorm' && Number.isFinite(rs.value(sample, layer, 'weightNorm'))) return true;
  const outputsBroke = rs.samples.some((_, s) => s > sample && rs.value(s, layer, 'nonFinite') > 0);
  return outputsBroke || rs.input.loss.slice(rs.samples[sample].step).some((l) => l === null || !Number.isFinite(l));
}

export function detectNonFinite(rs: RunStats): Finding[] {
  const n = rs.layers.length;
  const cache: FirstFinite = new Map();
  for (let s = 0; s < rs.samples.length; s++) {
    // Forward first: the lowest layer whose output is non-finite is where it started.
    for (let l = 0; l < n; l++) {
      if (rs.value(s, l, 'nonFinite') > 0) return [at(rs, l, s, 'activations')];
    }
    for (let l = 0; l < n; l++) {
      if (becameNonFinite(rs, l, 'weightNorm', s, cache)) return [at(rs, l, s, 'weights')];
    }
    // Backward pass starts at the output: the highest layer is where gradients first broke.
    for (let l = n - 1; l >= 0; l--) {
      if (becameNonFinite(rs, l, 'gradNorm', s, cache) || becameNonFinite(rs, l, 'activationGradNorm', s, cache))
        return [at(rs, l, s, 'gradients')];
    }
  }
  const badLoss = rs.input.loss.findIndex((v) => v === null || !Number.isFinite(v));
  if (badLoss >= 0) {
    return [
      {
        kind: 'non-finite',
        severity: 'error',
        layer: null,
        step: badLoss,
        source: null,
        message: `The loss became ${rs.input.loss[badLoss] ?? 'NaN'} at step ${badLoss}. ${WHY}`,
        fix: fix(rs),
      },
    ];
  }
  return [];
}

function at(rs: RunStats, layer: number, sample: number, what: string): Finding {
  const info = rs.layers[layer];
  return layerFinding(info, {
    kind: 'non-finite',
    severity: 'error',
    step: rs.step(sample),
    message: `NaN/Inf first appeared in the ${what} of ${info.name} at step ${rs.step(sample)}. ${WHY}`,
    fix: fix(rs),
  });
}
