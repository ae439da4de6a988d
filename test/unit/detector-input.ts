// Synthetic detector inputs for the dynamic-detector tests: a healthy baseline each test perturbs.
import { STAT_NAMES, type Finding, type LayerInfo, type StatName } from '../../src/protocol/run';
import type { DetectorInput } from '../../src/diagnosis/detectors';

export type Spec = Partial<LayerInfo> & { name: string; className: string };
export type StatFn = (step: number, layer: number) => Partial<Record<StatName, number>>;

/** A healthy baseline every test perturbs: unit variance, modest gradients, update ratio 1e-3. */
export function healthy(step: number, layer: number, info: LayerInfo): Partial<Record<StatName, number>> {
  const base: Partial<Record<StatName, number>> = { mean: 0.1, variance: 1, std: 1, gain: 1, nonFinite: 0, activationGradNorm: 0.1 };
  if (info.activation === 'relu') base.deadFraction = 0.05;
  if (info.activation === 'tanh' || info.activation === 'sigmoid') base.saturatedFraction = 0.02;
  if (info.paramCount > 0) Object.assign(base, { weightNorm: 5, gradNorm: 0.05 * (1 + layer * 0.1), updateNorm: 5e-3, updateRatio: 1e-3 });
  if (info.isNorm) Object.assign(base, { gammaMean: 1, gammaStd: 0.05, gammaMin: 0.9, gammaMax: 1.1, betaMean: 0 });
  if (info.className === 'BatchNormalization') Object.assign(base, { movingMeanGap: 0.1 / (1 + step), movingVarGap: 0.1 });
  return base;
}

export function makeInput(specs: Spec[], steps: number, perturb: StatFn = () => ({}), extra: Partial<DetectorInput> = {}): DetectorInput {
  const layers: LayerInfo[] = specs.map((s, index) => ({
    index,
    outputShape: [null, 16],
    paramCount: 0,
    isNorm: false,
    source: { file: '/m.js', line: 10 + index, column: 3 },
    ...s,
  }));
  const samples = [];
  const loss: number[] = [];
  for (let step = 0; step < steps; step++) {
    const values: number[] = [];
    layers.forEach((info, l) => {
      const stats = { ...healthy(step, l, info), ...perturb(step, l) };
      for (const name of STAT_NAMES) values.push(stats[name] ?? NaN);
    });
    loss.push(1 / (1 + step));
    samples.push({ step, loss: loss[step], stepMs: 1, values });
  }
  return { layers, statNames: STAT_NAMES, samples, loss, batchSize: 32, learningRate: 1e-3, ...extra };
}

export const dense = (name: string, activation = 'relu', paramCount = 1056): Spec => ({ name, className: 'Dense', activation, paramCount });
export const MLP: Spec[] = [dense('d1'), dense('d2'), dense('d3'), dense('out', 'linear', 17)];

export function only(findings: Finding[], kind: Finding['kind']): Finding[] {
  return findings.filter((f) => f.kind === kind);
}
