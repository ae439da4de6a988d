/**
 * Turns one instrumented step's recording into the flat `StepSample.values` row: every tensor the
 * step kept is measured by a Meter (./meters) and the ratios are finished on the host
 * (../stats/derived). The device meter reads the device once per step; the host meter not at all.
 */
import * as tf from '@tensorflow/tfjs';
import { STAT_NAMES, type StatName } from '../../protocol';
import * as derived from '../stats/derived';
import type { InputRef, StepRecording } from './hooks';
import type { Lazy, Meter } from './meters';
import type { LayerProbe } from './probes';

const STAT_INDEX = Object.fromEntries(STAT_NAMES.map((name, i) => [name, i])) as Record<StatName, number>;

/** Per trainable variable, measured around the optimizer's update by ./step. */
export interface WeightMeasures {
  /** ‖W‖² before the update. */
  weightSquared: Lazy;
  /** ‖∂loss/∂W‖², absent when the loss does not depend on W. */
  gradSquared?: Lazy;
  /** ‖W_after − W_before‖². */
  updateSquared: Lazy;
}

type Getters = Partial<Record<StatName, Lazy>>;
const nan: Lazy = () => NaN;
const sum = (parts: Lazy[]): Lazy => (parts.length ? () => parts.reduce((s, p) => s + p(), 0) : nan);

/** Gain's denominator: the pooled spread of all the layer's inputs (NaN if one is not float). */
function inputStd(inputs: InputRef[], outputs: Map<number, { size: number; mean: Lazy; variance: Lazy }>): Lazy {
  const parts: { size: number; mean: Lazy; variance: Lazy }[] = [];
  for (const ref of inputs) {
    if (!ref) return nan;
    if ('layer' in ref) {
      const measured = outputs.get(ref.layer);
      if (!measured) return nan;
      parts.push(measured);
    } else {
      parts.push(ref.raw);
    }
  }
  return () => derived.pooledStd(parts.map((p) => ({ size: p.size, mean: p.mean(), variance: p.variance() })));
}

function measureLayer(probe: LayerProbe, index: number, rec: StepRecording, weights: Map<tf.Variable, WeightMeasures>, meter: Meter,
  outputs: Map<number, { size: number; mean: Lazy; variance: Lazy }>): Getters {
  const g: Getters = {};
  const record = rec.layers.get(index);
  if (record) {
    const out = record.output;
    const a = meter.activation(out, probe.reluLike, probe.saturating);
    outputs.set(index, { size: out.size, mean: a.mean, variance: a.variance });
    const channels = out.shape[out.rank - 1] ?? 1;
    const inStd = inputStd(record.inputs, outputs);
    Object.assign(g, {
      mean: a.mean, variance: a.variance, std: () => derived.std(a.variance()), min: a.min, max: a.max,
      zeroFraction: () => derived.fraction(a.zeros(), out.size),
      nonFinite: () => derived.nonFinite(a.finite(), out.size),
      gain: () => derived.gain(derived.std(a.variance()), inStd()),
    });
    if (probe.reluLike) g.deadFraction = () => derived.deadFraction(a.deadUnits(), channels);
    if (probe.saturating) g.saturatedFraction = () => derived.fraction(a.saturated(), out.size);
    if (record.gradSquared.length) g.activationGradNorm = () => derived.l2(sum(record.gradSquared)());
    if (record.gaps) {
      g.movingMeanGap = record.gaps.meanGap;
      g.movingVarGap = record.gaps.varGap;
    }
  }
  if (probe.gamma) {
    const v = meter.vector(probe.gamma.read());
    Object.assign(g, { gammaMean: v.mean, gammaStd: () => derived.std(v.variance()), gammaMin: v.min, gammaMax: v.max });
  }
  if (probe.beta) g.betaMean = meter.vector(probe.beta.read()).mean;
  const weightSq: Lazy[] = [];
  const gradSq: Lazy[] = [];
  const updateSq: Lazy[] = [];
  for (const variable of probe.variables) {
    const measured = weights.get(variable);
    if (!measured) continue;
    weightSq.push(measured.weightSquared);
    if (measured.gradSquared) gradSq.push(measured.gradSquared);
    updateSq.push(measured.updateSquared);
  }
  if (weightSq.length) {
    const weightNorm = () => derived.l2(sum(weightSq)());
    const updateNorm = () => derived.l2(sum(updateSq)());
    Object.assign(g, {
      weightNorm, updateNorm,
      gradNorm: () => derived.l2(sum(gradSq)()),
      updateRatio: () => derived.updateRatio(updateNorm(), weightNorm()),
    });
  }
  return g;
}

/**
 * Measures the step. Returns the loss and the values row ([layer][stat] in `STAT_NAMES` order,
 * NaN where a stat does not apply).
 */
export function collectStep(probes: LayerProbe[], rec: StepRecording, weights: Map<tf.Variable, WeightMeasures>, loss: tf.Scalar): { loss: number; values: number[] } {
  const meter = rec.meter;
  const lossValue = meter.scalar(loss);
  const outputs = new Map<number, { size: number; mean: Lazy; variance: Lazy }>();
  const getters = probes.map((probe, index) => measureLayer(probe, index, rec, weights, meter, outputs));
  meter.finish();
  const width = STAT_NAMES.length;
  const values = new Array<number>(probes.length * width).fill(NaN);
  getters.forEach((g, index) => {
    for (const [name, get] of Object.entries(g) as [StatName, Lazy][]) values[index * width + STAT_INDEX[name]] = get();
  });
  return { loss: lossValue(), values };
}
