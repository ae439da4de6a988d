/**
 * `dead`: ReLU-style units that never fire. Rule: SageMaker Debugger DeadRelu — a layer is dead when
 * more than 50 % of its units are active in fewer than 1 % of samples; `deadFraction` counts units
 * never active across the whole batch (the same test at batch ≤ 100). A layer whose units came back (the condition
 * failed at the last `persistence` samples) is not reported: at a small batch a healthy layer can sit near the edge.
 * `gamma-collapse`: a normalization layer whose scale γ shrank toward 0 (γ starts at 1), which
 * multiplies its normalized output by ~0 and silences everything after it.
 */
import type { Finding } from '../../protocol/run';
import { onFeeder } from './related';
import { layerFinding, normToInsert, num, pct, type RunStats } from './series';

export function detectDead(rs: RunStats): Finding[] {
  const out: Finding[] = [];
  for (const layer of rs.layers) {
    if (layer.isNorm) continue;
    const dead = rs.series(layer.index, 'deadFraction');
    const episode = rs.ongoing(
      (s) => dead[s] > rs.t.deadFraction,
      (s) => !Number.isNaN(dead[s]),
    );
    if (!episode) continue; // never persisted, or the units are active again: they were not dead
    const { first, latest } = episode;
    const worst = dead[latest]; // the latest value above the threshold, never one below it
    const next = rs.nextSignificant(layer.index);
    const hasNormAfter = next?.isNorm ?? false;
    const norm = normToInsert(layer, rs.input.batchSize);
    out.push(
      layerFinding(layer, {
        kind: 'dead',
        severity: worst >= 1 ? 'error' : 'warning',
        step: rs.step(first),
        message:
          `${pct(worst)} of the units of ${layer.name} output 0 for every example in the batch (threshold ${pct(rs.t.deadFraction)}). ` +
          'A ReLU unit whose pre-activation is negative for all inputs gets zero gradient, so it cannot recover and the layer loses capacity' +
          (worst >= 1 ? '; with every unit dead no gradient reaches the layers before it either.' : '.'),
        fix: hasNormAfter
          ? `Lower the learning rate, check the bias initializer (a large negative bias kills units), or use ${rs.words.leakyRelu} / He initialization (${rs.words.heInit}).`
          : `Normalize the pre-activations so they stay centred around 0 (insert ${rs.normName(norm, layer)}), lower the learning rate, check the bias initializer, or use ${rs.words.leakyRelu}.`,
        ...(hasNormAfter ? {} : { refactor: { action: 'insert-norm' as const, norm } }),
        ...onFeeder(
          rs,
          layer,
          (f) =>
            `${f.name} (${f.className}) feeds ${layer.name}, where ${pct(worst)} of the units are dead: ${f.name}'s outputs there are ≤ 0 for every example in the batch.`,
        ),
      }),
    );
  }
  return out;
}

export function detectGammaCollapse(rs: RunStats): Finding[] {
  const out: Finding[] = [];
  for (const layer of rs.layers) {
    if (!layer.isNorm) continue;
    const maxAbs = (s: number) => Math.max(Math.abs(rs.value(s, layer.index, 'gammaMin')), Math.abs(rs.value(s, layer.index, 'gammaMax')));
    const first = rs.firstPersistent(
      (s) => maxAbs(s) < rs.t.gammaCollapse,
      (s) => !Number.isNaN(maxAbs(s)),
    );
    if (first < 0) continue;
    out.push(
      layerFinding(layer, {
        kind: 'gamma-collapse',
        severity: 'warning',
        step: rs.step(first),
        message:
          `Every scale γ of ${layer.name} is below ${num(rs.t.gammaCollapse)} in magnitude (max |γ| = ${num(maxAbs(rs.samples.length - 1))}; γ starts at 1). ` +
          'The layer multiplies its normalized output by ~0, so it passes almost no signal forward and almost no gradient back: the layer is effectively dead.',
        fix: 'Lower the learning rate or the weight decay on γ (do not L2-regularize norm scales), and check that the loss does not reward silencing this branch.',
      }),
    );
  }
  return out;
}
