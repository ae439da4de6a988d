/**
 * Statistics of normalization layers: the learned scale γ and shift β, and for BatchNorm the gap
 * between its moving (inference) statistics and the statistics of the current batch.
 */
import * as tf from '@tensorflow/tfjs';

/** Small constant so that a channel with zero batch variance does not divide by zero. */
export const GAP_EPSILON = 1e-5;

/**
 * `gammaMean` = mean_c γ_c, `gammaStd` = √(mean_c (γ_c − gammaMean)²), `gammaMin` = min_c γ_c,
 * `gammaMax` = max_c γ_c over the channels c of the scale vector γ.
 */
export function gammaStats(gamma: tf.Tensor): { mean: tf.Scalar; variance: tf.Scalar; min: tf.Scalar; max: tf.Scalar } {
  const { mean, variance } = tf.moments(gamma);
  return { mean: mean as tf.Scalar, variance: variance as tf.Scalar, min: tf.min(gamma), max: tf.max(gamma) };
}

/** `betaMean` = mean_c β_c of the shift vector β. */
export function betaMean(beta: tf.Tensor): tf.Scalar {
  return tf.mean(beta);
}

/**
 * Per-channel mean and (population) variance of a BatchNorm input over every axis except the
 * normalized one, exactly the batch statistics BatchNorm uses in training mode.
 */
export function batchMoments(input: tf.Tensor, axis: number): { mean: tf.Tensor; variance: tf.Tensor } {
  const channelAxis = axis < 0 ? input.rank + axis : axis;
  const reduce = [...Array(input.rank).keys()].filter((a) => a !== channelAxis);
  return tf.moments(input, reduce);
}

/**
 * `movingMeanGap` = mean_c |μ̂_c − μ_c| / √(σ²_c + ε): the distance between BatchNorm's moving
 * mean μ̂ (used at inference) and this batch's mean μ, in units of the batch's standard
 * deviation σ, averaged over channels. 0 means inference will normalize like training did;
 * ≳ 0.5 means inference outputs are shifted by half a standard deviation or more.
 */
export function movingMeanGap(movingMean: tf.Tensor, batchMean: tf.Tensor, batchVariance: tf.Tensor): tf.Scalar {
  return tf.mean(tf.div(tf.abs(tf.sub(movingMean, batchMean)), tf.sqrt(tf.add(batchVariance, GAP_EPSILON))));
}

/**
 * `movingVarGap` = mean_c |σ̂²_c − σ²_c| / (σ²_c + ε): the relative difference between BatchNorm's
 * moving variance σ̂² and this batch's variance σ², averaged over channels (0.5 = 50 % off).
 */
export function movingVarGap(movingVariance: tf.Tensor, batchVariance: tf.Tensor): tf.Scalar {
  const denominator = tf.add(batchVariance, GAP_EPSILON);
  return tf.mean(tf.div(tf.abs(tf.sub(movingVariance, batchVariance)), denominator));
}
