/**
 * Statistics finished on the host from the raw on-device reductions of ./activation,
 * ./weights and ./norm (scalars are cheaper to divide here than to stack as more tensors).
 */

/** `std` = √variance (population standard deviation of the layer output). */
export function std(variance: number): number {
  return Math.sqrt(variance);
}

/**
 * `gain` = std(output) / std(input) of the layer: how much the layer scales the spread of the
 * signal passing forward. NaN when the input has zero spread or is not a float tensor.
 */
export function gain(outputStd: number, inputStd: number): number {
  return inputStd > 0 && Number.isFinite(inputStd) ? outputStd / inputStd : NaN;
}

/** `zeroFraction`, `saturatedFraction`: count / N with N the number of output elements. */
export function fraction(count: number, total: number): number {
  return total > 0 ? count / total : NaN;
}

/** `deadFraction` = dead units / C, C the size of the output's last axis. */
export function deadFraction(deadUnits: number, channels: number): number {
  return fraction(deadUnits, channels);
}

/** `nonFinite` = N − (number of finite elements): the count of NaN, +Inf and −Inf outputs. */
export function nonFinite(finite: number, total: number): number {
  return total - finite;
}

/**
 * L2 norm from a squared norm: `activationGradNorm` = ‖∂loss/∂output‖₂ (the gradient flowing
 * back into the layer's output), `weightNorm` = ‖W‖₂ and `gradNorm` = ‖∂loss/∂W‖₂ over all the
 * layer's trainable weights before the step's update, `updateNorm` = ‖W_after − W_before‖₂.
 */
export function l2(squared: number): number {
  return Math.sqrt(squared);
}

/** `updateRatio` = ‖ΔW‖₂ / ‖W‖₂ for the step (≈ effective learning rate; healthy ≈ 1e-3). */
export function updateRatio(updateNorm: number, weightNorm: number): number {
  return weightNorm > 0 ? updateNorm / weightNorm : NaN;
}

/** Count, mean and variance of one tensor, as the device reported them. */
export interface Moments {
  size: number;
  mean: number;
  variance: number;
}

/**
 * Standard deviation of several tensors taken together (a multi-input layer's inputs, e.g. Add or
 * Concatenate), from each part's moments: with N = Σ nₖ, μ = Σ nₖμₖ / N,
 * σ² = Σ nₖ(σₖ² + μₖ²) / N − μ². The denominator of `gain` for such layers.
 */
export function pooledStd(parts: Moments[]): number {
  const total = parts.reduce((n, p) => n + p.size, 0);
  if (total === 0) return NaN;
  const mean = parts.reduce((s, p) => s + p.size * p.mean, 0) / total;
  const second = parts.reduce((s, p) => s + p.size * (p.variance + p.mean * p.mean), 0) / total;
  return Math.sqrt(Math.max(0, second - mean * mean));
}
