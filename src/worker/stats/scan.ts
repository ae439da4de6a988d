/**
 * The same statistics as ./activation and ./norm (same formulas, see their doc comments),
 * computed in one JavaScript pass over a tensor's memory (the loops are in ./loops). On the cpu
 * and wasm backends tensors already live in this process (a Float32Array, or a view of the wasm
 * heap), so one fused pass per tensor is far cheaper than a dozen tfjs kernel launches; see
 * ../instrument/meters.
 */

import { countDeadUnits, countFinite, countOutside, distanceAndSquares, hasNaN, shiftedMoments, sumOfSquares } from './loops';

export interface ActivationScan {
  mean: number;
  variance: number;
  min: number;
  max: number;
  /** Σᵢ [xᵢ = 0] */
  zeros: number;
  /** Σᵢ [xᵢ finite] */
  finite: number;
  /** Units c (last axis, size `channels`) with maxᵣ x[r, c] ≤ 0; only when `countDead`. */
  deadUnits: number;
  /** Outputs beyond the saturation threshold (see ./activation `saturatedCount`), when `saturating` is set. */
  saturated: number;
}

/** mean and population variance, as `meanAndVariance` (shifted sums, see ./loops). */
export function scanMoments(x: Float32Array): { mean: number; variance: number } {
  const { mean, variance } = scanActivation(x, 1, false, null, 0);
  return { mean, variance };
}

/**
 * Every activation statistic of one output: one pass for the moments, extremes and zeros
 * (./loops `shiftedMoments`), with variance = (Σd² − (Σd)²/n) / n; dead units and saturation
 * only where they apply, and a counting pass only when something is not finite.
 */
export function scanActivation(
  x: Float32Array,
  channels: number,
  countDead: boolean,
  saturating: 'tanh' | 'sigmoid' | null,
  threshold: number,
): ActivationScan {
  const n = x.length;
  if (n === 0) return { mean: NaN, variance: NaN, min: NaN, max: NaN, zeros: 0, finite: 0, deadUnits: 0, saturated: 0 };
  const { sum, squares, zeros, min: seenMin, max: seenMax } = shiftedMoments(x);
  let min = seenMin;
  let max = seenMax;
  // All elements are finite exactly when Σd² is (a float32 squared cannot overflow a double), so
  // only then is a counting pass needed; a NaN also makes min and max NaN, as with tf.min/tf.max.
  const finite = Number.isFinite(squares) ? n : countFinite(x);
  if (finite !== n && hasNaN(x)) min = max = NaN;
  const center = saturating === 'sigmoid' ? 0.5 : 0;
  const saturated = saturating ? countOutside(x, center - threshold, center + threshold) : 0;
  const deadUnits = countDead ? countDeadUnits(x, channels) : 0;
  // Like tf.moments, a NaN or an infinity anywhere makes the moments NaN.
  return {
    mean: finite === n ? x[0] + sum / n : NaN,
    variance: finite === n ? Math.max(0, (squares - (sum * sum) / n) / n) : NaN,
    min,
    max,
    zeros,
    finite,
    deadUnits,
    saturated,
  };
}

/** Σᵢ xᵢ², as `squaredNorm`. */
export function scanSquaredNorm(x: Float32Array): number {
  return sumOfSquares(x);
}

/**
 * Σᵢ (aᵢ − bᵢ)², the squared norm of a weight update (b: a copy of the weights before it), and
 * Σᵢ aᵢ² in the same pass (the next step's weight norm, see ../instrument/meters).
 */
export function scanSquaredDistance(a: Float32Array, b: Float32Array): { distance: number; squaredNorm: number } {
  const { distance, squares } = distanceAndSquares(a, b);
  return { distance, squaredNorm: squares };
}

/** mean, variance, min and max of a vector (γ), as `gammaStats`. */
export function scanVector(x: Float32Array): { mean: number; variance: number; min: number; max: number } {
  const { mean, variance, min, max } = scanActivation(x, 1, false, null, 0);
  return { mean, variance, min, max };
}

/**
 * BatchNorm's gaps (see ./norm `movingMeanGap`, `movingVarGap`) from its input viewed as
 * [outer, C, inner] (C the normalized axis) and the moving statistics before this step's update.
 */
export function scanBatchNormGaps(
  input: Float32Array,
  shape: number[],
  axis: number,
  movingMean: Float32Array,
  movingVariance: Float32Array,
  epsilon: number,
): { meanGap: number; varGap: number } {
  const a = axis < 0 ? shape.length + axis : axis;
  const channels = shape[a];
  const inner = shape.slice(a + 1).reduce((p, d) => p * d, 1);
  const outer = input.length / (channels * inner);
  const count = outer * inner;
  // Per-channel shifted sums (see scanActivation), shift = the channel's moving mean.
  const sums = new Float64Array(channels);
  const squares = new Float64Array(channels);
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      const shift = movingMean[c];
      const base = (o * channels + c) * inner;
      let s = 0;
      let q = 0;
      for (let i = 0; i < inner; i++) {
        const d = input[base + i] - shift;
        s += d;
        q += d * d;
      }
      sums[c] += s;
      squares[c] += q;
    }
  }
  let meanGap = 0;
  let varGap = 0;
  for (let c = 0; c < channels; c++) {
    const offset = sums[c] / count; // batch mean − moving mean
    const variance = Math.max(0, squares[c] / count - offset * offset);
    meanGap += Math.abs(offset) / Math.sqrt(variance + epsilon);
    varGap += Math.abs(movingVariance[c] - variance) / (variance + epsilon);
  }
  return { meanGap: meanGap / channels, varGap: varGap / channels };
}

/**
 * The same gaps without touching the input: tfjs BatchNorm updates its moving averages in the
 * forward pass as m' = m − (m − b)(1 − momentum), so the batch statistic is b = m − (m − m')/(1 −
 * momentum). Reading m before and m' after the layer ran gives the batch mean and variance in
 * O(channels); they are compared with `reference` (the moving averages before the update, without their
 * warm-up: `withoutWarmup`). Float32 rounding of m' is amplified by 1/(1 − momentum) (100× at 0.99): a few 1e-6
 * relative, far below what the gaps are read at. Not for momentum ≥ MAX_DERIVED_MOMENTUM.
 */
export const MAX_DERIVED_MOMENTUM = 0.999;

export function batchNormGapsFromUpdate(
  before: MovingStats,
  after: MovingStats,
  momentum: number,
  epsilon: number,
  reference: MovingStats,
): { meanGap: number; varGap: number } {
  const decay = 1 - momentum;
  const channels = before.mean.length;
  let meanGap = 0;
  let varGap = 0;
  for (let c = 0; c < channels; c++) {
    const mean = before.mean[c] - (before.mean[c] - after.mean[c]) / decay;
    const variance = Math.max(0, before.variance[c] - (before.variance[c] - after.variance[c]) / decay);
    meanGap += Math.abs(reference.mean[c] - mean) / Math.sqrt(variance + epsilon);
    varGap += Math.abs(reference.variance[c] - variance) / (variance + epsilon);
  }
  return { meanGap: meanGap / channels, varGap: varGap / channels };
}

/** A BatchNorm's moving mean and variance, one value per channel. */
export interface MovingStats {
  mean: Float32Array;
  variance: Float32Array;
}

/**
 * The moving averages without what is left of their initial values. After k updates
 * m_k = keep·m_0 + (1 − keep)·(the weighted mean of the k batches), keep = momentum^k (tfjs's momentum weighs the
 * old value), so (m_k − keep·m_0) / (1 − keep) is that weighted mean: Adam's correction of its moment estimates
 * (Kingma & Ba 2015, section 3). Without it a short run's gaps would measure the warm-up, not drift: 0.99^50 = 0.6
 * of the initial variance 1 is still there after 50 steps. `keep` = 0 returns the averages as they are.
 */
export function withoutWarmup(moving: MovingStats, initial: MovingStats, keep: number): MovingStats {
  if (keep === 0) return moving;
  const scale = 1 / (1 - keep);
  const undo = (m: Float32Array, m0: Float32Array) => m.map((v, c) => (v - keep * m0[c]) * scale);
  return { mean: undo(moving.mean, initial.mean), variance: undo(moving.variance, initial.variance) };
}
