/**
 * The same statistics as ./activation and ./norm (same formulas, see their doc comments),
 * computed in one JavaScript pass over a tensor's memory. On the cpu and wasm backends tensors
 * already live in this process (a Float32Array, or a view of the wasm heap), so one fused pass
 * per tensor is far cheaper than a dozen tfjs kernel launches; see ../instrument/meters.
 */

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

/** mean and population variance (two passes, for accuracy), as `meanAndVariance`. */
export function scanMoments(x: Float32Array): { mean: number; variance: number } {
  const n = x.length;
  if (n === 0) return { mean: NaN, variance: NaN };
  let sum = 0;
  for (let i = 0; i < n; i++) sum += x[i];
  const mean = sum / n;
  let squares = 0;
  for (let i = 0; i < n; i++) {
    const d = x[i] - mean;
    squares += d * d;
  }
  return { mean, variance: squares / n };
}

/**
 * Every activation statistic of one output in a single pass (two for dead units). The variance
 * comes from sums of x − x₀ (shifted by the first element) in double precision, which keeps the
 * one-pass formula (Σd² − (Σd)²/n) / n accurate for float32 data. All elements are finite exactly
 * when Σd² is: a float32 squared cannot overflow a double, so only then is a counting pass needed.
 */
export function scanActivation(x: Float32Array, channels: number, countDead: boolean, saturating: 'tanh' | 'sigmoid' | null, threshold: number): ActivationScan {
  const n = x.length;
  if (n === 0) return { mean: NaN, variance: NaN, min: NaN, max: NaN, zeros: 0, finite: 0, deadUnits: 0, saturated: 0 };
  const shift = x[0];
  // Branch-free body (Math.min/max, conditional adds; several times faster in V8 than ifs), two
  // elements per iteration into independent accumulators so the adds do not wait on each other.
  // Math.min/max also propagate NaN, as tf.min/tf.max do.
  let sumA = 0, sumB = 0, sqA = 0, sqB = 0, zeros = 0;
  let minA = Infinity, minB = Infinity, maxA = -Infinity, maxB = -Infinity;
  const even = n - (n % 2);
  for (let i = 0; i < even; i += 2) {
    const v = x[i];
    const w = x[i + 1];
    const d = v - shift;
    const e = w - shift;
    sumA += d;
    sumB += e;
    sqA += d * d;
    sqB += e * e;
    minA = Math.min(minA, v);
    minB = Math.min(minB, w);
    maxA = Math.max(maxA, v);
    maxB = Math.max(maxB, w);
    zeros += (v === 0 ? 1 : 0) + (w === 0 ? 1 : 0);
  }
  if (even < n) {
    const v = x[even];
    sumA += v - shift;
    sqA += (v - shift) * (v - shift);
    minA = Math.min(minA, v);
    maxA = Math.max(maxA, v);
    zeros += v === 0 ? 1 : 0;
  }
  const sum = sumA + sumB;
  const squares = sqA + sqB;
  const min = Math.min(minA, minB);
  const max = Math.max(maxA, maxB);
  let finite = n;
  if (!Number.isFinite(squares)) {
    finite = 0;
    for (let i = 0; i < n; i++) finite += x[i] - x[i] === 0 ? 1 : 0; // 0 for NaN and ±Infinity
  }
  let saturated = 0;
  if (saturating) {
    const center = saturating === 'sigmoid' ? 0.5 : 0;
    const low = center - threshold;
    const high = center + threshold;
    for (let i = 0; i < n; i++) saturated += x[i] >= high || x[i] <= low ? 1 : 0;
  }
  let deadUnits = 0;
  if (countDead) {
    const unitMax = new Float32Array(channels).fill(-Infinity);
    for (let row = 0; row < n; row += channels) {
      for (let c = 0; c < channels; c++) unitMax[c] = Math.max(unitMax[c], x[row + c]);
    }
    for (let c = 0; c < channels; c++) if (unitMax[c] <= 0) deadUnits++; // NaN: not counted, as lessEqual
  }
  // Like tf.moments, a NaN or an infinity anywhere makes the moments NaN.
  return {
    mean: finite === n ? shift + sum / n : NaN,
    variance: finite === n ? Math.max(0, (squares - (sum * sum) / n) / n) : NaN,
    min, max, zeros, finite, deadUnits, saturated,
  };
}

/** Σᵢ xᵢ², as `squaredNorm`. */
export function scanSquaredNorm(x: Float32Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * x[i];
  return s;
}

/**
 * Σᵢ (aᵢ − bᵢ)², the squared norm of a weight update (b: a copy of the weights before it), and
 * Σᵢ aᵢ² in the same pass (the next step's weight norm, see ../instrument/meters).
 */
export function scanSquaredDistance(a: Float32Array, b: Float32Array): { distance: number; squaredNorm: number } {
  let s = 0;
  let q = 0;
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    const d = v - b[i];
    s += d * d;
    q += v * v;
  }
  return { distance: s, squaredNorm: q };
}

/** mean, variance, min and max of a vector (γ), as `gammaStats`. */
export function scanVector(x: Float32Array): { mean: number; variance: number; min: number; max: number } {
  const { mean, variance } = scanMoments(x);
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < x.length; i++) {
    if (x[i] < min) min = x[i];
    if (x[i] > max) max = x[i];
  }
  return { mean, variance, min, max };
}

/**
 * BatchNorm's gaps (see ./norm `movingMeanGap`, `movingVarGap`) from its input viewed as
 * [outer, C, inner] (C the normalized axis) and the moving statistics before this step's update.
 */
export function scanBatchNormGaps(input: Float32Array, shape: number[], axis: number, movingMean: Float32Array, movingVariance: Float32Array, epsilon: number): { meanGap: number; varGap: number } {
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
 * O(channels). Float32 rounding of m' is amplified by 1/(1 − momentum) (100× at 0.99): a few 1e-6
 * relative, far below what the gaps are read at. Not for momentum ≥ MAX_DERIVED_MOMENTUM.
 */
export const MAX_DERIVED_MOMENTUM = 0.999;

export function batchNormGapsFromUpdate(meanBefore: Float32Array, meanAfter: Float32Array, varianceBefore: Float32Array, varianceAfter: Float32Array, momentum: number, epsilon: number): { meanGap: number; varGap: number } {
  const decay = 1 - momentum;
  const channels = meanBefore.length;
  let meanGap = 0;
  let varGap = 0;
  for (let c = 0; c < channels; c++) {
    const offset = (meanBefore[c] - meanAfter[c]) / decay; // moving mean − batch mean
    const variance = Math.max(0, varianceBefore[c] - (varianceBefore[c] - varianceAfter[c]) / decay);
    meanGap += Math.abs(offset) / Math.sqrt(variance + epsilon);
    varGap += Math.abs(varianceBefore[c] - variance) / (variance + epsilon);
  }
  return { meanGap: meanGap / channels, varGap: varGap / channels };
}
