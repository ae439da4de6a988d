/**
 * Statistics of one layer's output (activation) tensor over the whole batch.
 * Every function here runs on the device and returns a scalar tensor, so that a training step
 * can read all of them back in one `dataSync` (see src/worker/instrument/collect.ts).
 * Counts are returned as int32 or float32 scalars; the few stats that need a division by a
 * count are finished on the host by the functions in ./derived.
 */
import * as tf from '@tensorflow/tfjs';

/** tanh(5): a tanh output at or beyond this magnitude had |pre-activation| ≥ 5. */
export const TANH_SATURATION = Math.tanh(5);
/** |sigmoid(5) − 0.5|: a sigmoid output this far from 0.5 had |pre-activation| ≥ 5. */
export const SIGMOID_SATURATION = 1 / (1 + Math.exp(-5)) - 0.5;

/**
 * `mean` = (1/N) Σᵢ xᵢ and `variance` = (1/N) Σᵢ (xᵢ − mean)² over all N elements (population
 * variance, as BatchNorm uses). Returns both from one `tf.moments` call.
 */
export function meanAndVariance(x: tf.Tensor): { mean: tf.Scalar; variance: tf.Scalar } {
  const { mean, variance } = tf.moments(x);
  return { mean: mean as tf.Scalar, variance: variance as tf.Scalar };
}

/** `min` = minᵢ xᵢ over all elements. */
export function minValue(x: tf.Tensor): tf.Scalar {
  return tf.min(x);
}

/** `max` = maxᵢ xᵢ over all elements. */
export function maxValue(x: tf.Tensor): tf.Scalar {
  return tf.max(x);
}

/** Count of exact zeros: Σᵢ [xᵢ = 0]. `zeroFraction` = count / N (see ./derived). */
export function zeroCount(x: tf.Tensor): tf.Scalar {
  return tf.sum(tf.equal(x, 0));
}

/** Count of finite elements: Σᵢ [xᵢ finite]. `nonFinite` = N − count (see ./derived). */
export function finiteCount(x: tf.Tensor): tf.Scalar {
  return tf.sum(tf.isFinite(x));
}

/**
 * Count of dead units: the output is viewed as rows × C, C = size of the last axis (units or
 * channels); a unit is dead when maxᵣ x[r, c] ≤ 0, i.e. it was never active in any sample or
 * position of the batch. `deadFraction` = count / C (see ./derived). Only meaningful after a
 * ReLU-like activation, whose output is ≥ 0.
 */
export function deadUnitCount(x: tf.Tensor): tf.Scalar {
  const channels = x.shape[x.rank - 1] ?? 1;
  const perUnitMax = tf.max(tf.reshape(x, [-1, channels]), 0);
  return tf.sum(tf.lessEqual(perUnitMax, 0));
}

/**
 * Count of saturated outputs of a tanh or sigmoid: outputs whose pre-activation z had |z| ≥ 5,
 * detected from the output y itself: tanh → |y| ≥ tanh(5); sigmoid → |y − ½| ≥ sigmoid(5) − ½.
 * `saturatedFraction` = count / N (see ./derived).
 */
export function saturatedCount(y: tf.Tensor, activation: 'tanh' | 'sigmoid'): tf.Scalar {
  const distance = activation === 'tanh' ? tf.abs(y) : tf.abs(tf.sub(y, 0.5));
  return tf.sum(tf.greaterEqual(distance, activation === 'tanh' ? TANH_SATURATION : SIGMOID_SATURATION));
}

/**
 * Squared L2 norm Σᵢ xᵢ². Used for `activationGradNorm` (of ∂loss/∂output), `weightNorm`,
 * `gradNorm` and `updateNorm` (of ΔW); the norm itself is the square root (see ./derived).
 */
export function squaredNorm(x: tf.Tensor): tf.Scalar {
  return tf.sum(tf.square(x));
}
