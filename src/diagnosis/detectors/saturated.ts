/**
 * `saturated`: tanh/sigmoid units stuck in their flat tails. Rule: DeepDiagnosis — more than 50 % of
 * a tanh/sigmoid layer's inputs beyond ±5, where the slope is below 0.007 (sigmoid) or 0.0002 (tanh).
 * Hidden units only: a model's own output activation (LayerInfo.modelOutput: a VAE's final sigmoid, a DCGAN
 * generator's tanh; where an engine does not mark it, the last layer of each model, RunStats.isOutput) saturates where a
 * confident model sits, and its loss, not its slope, sets the gradient there (binary cross-entropy on a sigmoid gives
 * p − y): the siamese example's sigmoid starts saturated and is out of it in 3 steps.
 */
import type { Finding } from '../../protocol/run';
import { onFeeder } from './related';
import { layerFinding, normToInsert, pct, type RunStats } from './series';

export function detectSaturated(rs: RunStats): Finding[] {
  const out: Finding[] = [];
  for (const layer of rs.layers) {
    if (rs.isOutput(layer)) continue;
    const sat = rs.series(layer.index, 'saturatedFraction');
    const episode = rs.ongoing(
      (s) => sat[s] > rs.t.saturatedFraction,
      (s) => !Number.isNaN(sat[s]),
    );
    if (!episode) continue; // never persisted, or out of the tails again
    const { first } = episode;
    const norm = normToInsert(layer, rs.input.batchSize);
    out.push(
      layerFinding(layer, {
        kind: 'saturated',
        severity: 'warning',
        step: rs.step(first),
        message:
          `${pct(sat[first])} of ${layer.name}'s ${layer.activation ?? 'tanh/sigmoid'} inputs are beyond ±5 (threshold ${pct(rs.t.saturatedFraction)}). ` +
          'There the activation is flat (slope < 0.007 for sigmoid, < 0.0002 for tanh), so almost no gradient passes through and these units stop learning.',
        fix: `Normalize the pre-activations (insert ${rs.normName(norm, layer)} before the activation), shrink the weight initialization, or lower the learning rate.`,
        refactor: { action: 'insert-norm', norm },
        ...onFeeder(
          rs,
          layer,
          (f) =>
            `${f.name} (${f.className}) feeds ${layer.name}: ${pct(sat[first])} of its outputs are beyond ±5, where ${layer.name} is flat and passes almost no gradient.`,
        ),
      }),
    );
  }
  return out;
}
