/**
 * Turns one instrumented step's recording into the flat `StepSample.values` row: what was not
 * measured during the step (device meter: every kept output) is measured now by the Meter
 * (./meters), then each layer's row is written in place, the ratios finished on the host
 * (../stats/derived). The device meter reads the device once per step; the host meter not at all.
 * Written as plain loops over precomputed stat positions: this runs every step for every layer,
 * and a getter object per layer and statistic was a measurable part of the overhead.
 */
import * as tf from '@tensorflow/tfjs';
import { STAT_NAMES, type StatName } from '../../protocol';
import * as derived from '../stats/derived';
import type { ActivationScan } from '../stats/scan';
import type { LayerRecord, StepRecording } from './hooks';
import type { Lazies, Lazy, Meter } from './meters';
import type { LayerProbe } from './probes';

const at = (name: StatName): number => STAT_NAMES.indexOf(name);
const MEAN = at('mean'),
  VARIANCE = at('variance'),
  STD = at('std'),
  MIN = at('min'),
  MAX = at('max'),
  GAIN = at('gain');
const ZERO_FRACTION = at('zeroFraction'),
  DEAD_FRACTION = at('deadFraction'),
  SATURATED_FRACTION = at('saturatedFraction');
const NON_FINITE = at('nonFinite'),
  ACTIVATION_GRAD_NORM = at('activationGradNorm');
const WEIGHT_NORM = at('weightNorm'),
  GRAD_NORM = at('gradNorm'),
  UPDATE_NORM = at('updateNorm'),
  UPDATE_RATIO = at('updateRatio');
const GAMMA_MEAN = at('gammaMean'),
  GAMMA_STD = at('gammaStd'),
  GAMMA_MIN = at('gammaMin'),
  GAMMA_MAX = at('gammaMax');
const BETA_MEAN = at('betaMean'),
  MOVING_MEAN_GAP = at('movingMeanGap'),
  MOVING_VAR_GAP = at('movingVarGap'),
  MOVING_UPDATES = at('movingUpdates');

/** Per trainable variable, measured around the optimizer's update by ./step. */
export interface WeightMeasures {
  /** ‖W‖² before the update. */
  weightSquared: Lazy;
  /** ‖∂loss/∂W‖², absent when the loss does not depend on W. */
  gradSquared?: Lazy;
  /** ‖W_after − W_before‖². */
  updateSquared: Lazy;
}

/** Σ of the parts in order (0 for none), as the stats were always summed. */
function sum(parts: Lazy[]): number {
  let total = 0;
  for (let i = 0; i < parts.length; i++) total += parts[i]();
  return total;
}

/** What a layer's row is computed from, gathered before the meter's `finish`. */
interface Pending {
  record: LayerRecord | undefined;
  activation: Lazies<ActivationScan> | null;
  gamma: { mean: Lazy; variance: Lazy; min: Lazy; max: Lazy } | null;
  beta: Lazy | null;
}

/** Gain's denominator: the pooled spread of all the layer's inputs (NaN if one is not float or not measured before). */
function inputStd(record: LayerRecord, index: number, means: Float64Array, variances: Float64Array, sizes: Float64Array): number {
  const parts: derived.Moments[] = [];
  for (const ref of record.inputs) {
    if (!ref) return NaN;
    if ('layer' in ref) {
      const j = ref.layer;
      if (!(j < index) || sizes[j] < 0) return NaN;
      parts.push({ size: sizes[j], mean: means[j], variance: variances[j] });
    } else {
      parts.push({ size: ref.raw.size, mean: ref.raw.mean(), variance: ref.raw.variance() });
    }
  }
  return derived.pooledStd(parts);
}

function writeWeights(values: number[], base: number, probe: LayerProbe, weights: Map<tf.Variable, WeightMeasures>): void {
  let measured = 0,
    withGrad = 0,
    weightSq = 0,
    gradSq = 0,
    updateSq = 0;
  for (const variable of probe.variables) {
    const w = weights.get(variable);
    if (!w) continue;
    measured++;
    weightSq += w.weightSquared();
    if (w.gradSquared) {
      withGrad++;
      gradSq += w.gradSquared();
    }
    updateSq += w.updateSquared();
  }
  if (!measured) return;
  const weightNorm = derived.l2(weightSq);
  const updateNorm = derived.l2(updateSq);
  values[base + WEIGHT_NORM] = weightNorm;
  values[base + UPDATE_NORM] = updateNorm;
  values[base + GRAD_NORM] = withGrad ? derived.l2(gradSq) : NaN; // no weight the loss depends on
  values[base + UPDATE_RATIO] = derived.updateRatio(updateNorm, weightNorm);
}

/**
 * Measures the step. Returns the loss and the values row ([layer][stat] in `STAT_NAMES` order,
 * NaN where a stat does not apply).
 */
export function collectStep(
  probes: LayerProbe[],
  rec: StepRecording,
  weights: Map<tf.Variable, WeightMeasures>,
  loss: tf.Scalar,
): { loss: number; values: number[] } {
  const meter: Meter = rec.meter;
  const lossValue = meter.scalar(loss);
  const pending: Pending[] = new Array(probes.length);
  for (let index = 0; index < probes.length; index++) {
    const probe = probes[index];
    const record = rec.layers.get(index);
    pending[index] = {
      record,
      activation: record ? (record.activation ?? meter.activation(record.output!, probe.reluLike, probe.saturating)) : null,
      gamma: probe.gamma ? meter.vector(probe.gamma.read()) : null,
      beta: probe.beta ? meter.vector(probe.beta.read()).mean : null,
    };
  }
  meter.finish();
  const width = STAT_NAMES.length;
  const values = new Array<number>(probes.length * width).fill(NaN);
  // Each measured output's moments, for the gain of the layers it feeds (size −1: not measured).
  const means = new Float64Array(probes.length);
  const variances = new Float64Array(probes.length);
  const sizes = new Float64Array(probes.length).fill(-1);
  for (let index = 0; index < probes.length; index++) {
    const probe = probes[index];
    const { record, activation: a, gamma, beta } = pending[index];
    const base = index * width;
    if (record && a) {
      const size = record.size;
      const mean = a.mean(),
        variance = a.variance();
      means[index] = mean;
      variances[index] = variance;
      sizes[index] = size;
      values[base + MEAN] = mean;
      values[base + VARIANCE] = variance;
      values[base + STD] = derived.std(variance);
      values[base + MIN] = a.min();
      values[base + MAX] = a.max();
      values[base + ZERO_FRACTION] = derived.fraction(a.zeros(), size);
      values[base + NON_FINITE] = derived.nonFinite(a.finite(), size);
      values[base + GAIN] = derived.gain(derived.std(variance), inputStd(record, index, means, variances, sizes));
      if (probe.reluLike) values[base + DEAD_FRACTION] = derived.deadFraction(a.deadUnits(), record.channels);
      if (probe.saturating) values[base + SATURATED_FRACTION] = derived.fraction(a.saturated(), size);
      if (record.gradSquared.length) values[base + ACTIVATION_GRAD_NORM] = derived.l2(sum(record.gradSquared));
      if (record.gaps) {
        values[base + MOVING_MEAN_GAP] = record.gaps.meanGap();
        values[base + MOVING_VAR_GAP] = record.gaps.varGap();
        values[base + MOVING_UPDATES] = record.gaps.updates;
      }
    }
    if (gamma) {
      values[base + GAMMA_MEAN] = gamma.mean();
      values[base + GAMMA_STD] = derived.std(gamma.variance());
      values[base + GAMMA_MIN] = gamma.min();
      values[base + GAMMA_MAX] = gamma.max();
    }
    if (beta) values[base + BETA_MEAN] = beta();
    writeWeights(values, base, probe, weights);
  }
  return { loss: lossValue(), values };
}
