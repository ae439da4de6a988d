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
export function scanMoments(x: ArrayLike<number>): { mean: number; variance: number } {
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
 * Every activation statistic of one output in a single pass. The variance comes from sums of
 * x − x₀ (shifted by the first element) in double precision, which keeps the one-pass formula
 * (Σd² − (Σd)²/n) / n accurate for float32 data.
 */
export function scanActivation(x: ArrayLike<number>, channels: number, countDead: boolean, saturating: 'tanh' | 'sigmoid' | null, threshold: number): ActivationScan {
  const n = x.length;
  if (n === 0) return { mean: NaN, variance: NaN, min: NaN, max: NaN, zeros: 0, finite: 0, deadUnits: 0, saturated: 0 };
  const shift = x[0];
  let sum = 0;
  let squares = 0;
  let min = Infinity;
  let max = -Infinity;
  let zeros = 0;
  let finite = 0;
  let saturated = 0;
  let nan = false;
  const center = saturating === 'sigmoid' ? 0.5 : 0;
  for (let i = 0; i < n; i++) {
    const v = x[i];
    const d = v - shift;
    sum += d;
    squares += d * d;
    if (v < min) min = v;
    if (v > max) max = v;
    if (v === 0) zeros++;
    if (v - v === 0) finite++; // false for NaN and ±Infinity
    else if (v !== v) nan = true;
    if (saturating && Math.abs(v - center) >= threshold) saturated++;
  }
  let deadUnits = 0;
  if (countDead) {
    const unitMax = new Float32Array(channels).fill(-Infinity);
    for (let row = 0; row < n; row += channels) {
      for (let c = 0; c < channels; c++) if (x[row + c] > unitMax[c]) unitMax[c] = x[row + c];
    }
    for (let c = 0; c < channels; c++) if (!(unitMax[c] > 0)) deadUnits++;
  }
  const mean = shift + sum / n;
  const variance = Math.max(0, (squares - (sum * sum) / n) / n);
  // Like tf.min/tf.max/tf.moments, a NaN anywhere (or an infinity, for the moments) poisons them.
  return {
    mean: finite === n ? mean : NaN,
    variance: finite === n ? variance : NaN,
    min: nan ? NaN : min,
    max: nan ? NaN : max,
    zeros, finite, deadUnits, saturated,
  };
}

/** Σᵢ xᵢ², as `squaredNorm`. */
export function scanSquaredNorm(x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * x[i];
  return s;
}

/** Σᵢ (aᵢ − bᵢ)²: the squared norm of a weight update (b: a copy of the weights before it). */
export function scanSquaredDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    s += d * d;
  }
  return s;
}

/** mean, variance, min and max of a vector (γ), as `gammaStats`. */
export function scanVector(x: ArrayLike<number>): { mean: number; variance: number; min: number; max: number } {
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
export function scanBatchNormGaps(input: ArrayLike<number>, shape: number[], axis: number, movingMean: ArrayLike<number>, movingVariance: ArrayLike<number>, epsilon: number): { meanGap: number; varGap: number } {
  const a = axis < 0 ? shape.length + axis : axis;
  const channels = shape[a];
  const inner = shape.slice(a + 1).reduce((p, d) => p * d, 1);
  const count = input.length / channels;
  const sums = new Float64Array(channels);
  for (let i = 0; i < input.length; i++) sums[Math.floor(i / inner) % channels] += input[i];
  const means = sums.map((s) => s / count);
  const squares = new Float64Array(channels);
  for (let i = 0; i < input.length; i++) {
    const c = Math.floor(i / inner) % channels;
    const d = input[i] - means[c];
    squares[c] += d * d;
  }
  let meanGap = 0;
  let varGap = 0;
  for (let c = 0; c < channels; c++) {
    const variance = squares[c] / count;
    meanGap += Math.abs(movingMean[c] - means[c]) / Math.sqrt(variance + epsilon);
    varGap += Math.abs(movingVariance[c] - variance) / (variance + epsilon);
  }
  return { meanGap: meanGap / channels, varGap: varGap / channels };
}
