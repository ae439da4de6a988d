/**
 * Statistics of normalization layers: the learned scale γ and shift β, and for BatchNorm the gap
 * between its moving (inference) statistics and the statistics of the current batch.
 */
import * as tf from '@tensorflow/tfjs';

import type { MovingStats } from './scan';

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
 * deviation σ, averaged over channels; ε is the layer's own (what BN divides by). 0 means inference will normalize
 * like training did; ≳ 0.5 means inference outputs are shifted by half a standard deviation or more. μ̂ is taken
 * without what is left of its initial value (../stats/scan `withoutWarmup`), so a short run measures drift, not
 * the moving average's warm-up.
 */
export function movingMeanGap(movingMean: tf.Tensor, batchMean: tf.Tensor, batchVariance: tf.Tensor, epsilon: number): tf.Scalar {
  return tf.mean(tf.div(tf.abs(tf.sub(movingMean, batchMean)), tf.sqrt(tf.add(batchVariance, epsilon))));
}

/**
 * `movingVarGap` = mean_c |σ̂²_c − σ²_c| / (σ²_c + ε): the relative difference between BatchNorm's
 * moving variance σ̂² and this batch's variance σ², averaged over channels (0.5 = 50 % off). ε, the layer's own,
 * is the floor: variances far below it do not change what BN outputs (N(0, 0.02) weights give ~1e-4).
 */
export function movingVarGap(movingVariance: tf.Tensor, batchVariance: tf.Tensor, epsilon: number): tf.Scalar {
  const denominator = tf.add(batchVariance, epsilon);
  return tf.mean(tf.div(tf.abs(tf.sub(movingVariance, batchVariance)), denominator));
}

/** `withoutWarmup` with tfjs ops: the moving statistics without `keep` of their initial values. */
export function withoutWarmupOnDevice(
  bn: { movingMean: { read(): tf.Tensor }; movingVariance: { read(): tf.Tensor }; initial: MovingStats },
  keep: number,
): { mean: tf.Tensor; variance: tf.Tensor } {
  const undo = (m: tf.Tensor, m0: Float32Array) => (keep === 0 ? m : tf.div(tf.sub(m, tf.mul(tf.tensor1d(m0), keep)), 1 - keep));
  return { mean: undo(bn.movingMean.read(), bn.initial.mean), variance: undo(bn.movingVariance.read(), bn.initial.variance) };
}
