/**
 * The landscape and internal-covariate-shift formulas of Santurkar et al. 2018 ("How Does Batch
 * Normalization Help Optimization?", §3 and §4.1, Figs. 4 and 5), as pure functions over flat
 * vectors and numbers. The tf side (./probe) computes losses and gradients and calls these.
 * Unit-tested by hand on 2-parameter quadratics (test/unit/landscape-formulas.test.ts).
 */
import type { LandscapeSample, LandscapeSummary } from '../../protocol/landscape';

/** Euclidean norm ‖v‖ = √Σ vᵢ² of several blocks taken as one vector (a model's gradients, layer by layer). */
export function norm(blocks: ArrayLike<number>[]): number {
  let sum = 0;
  for (const b of blocks) for (let i = 0; i < b.length; i++) sum += b[i] * b[i];
  return Math.sqrt(sum);
}

/** ‖a − b‖ over matching blocks. */
export function distance(a: ArrayLike<number>[], b: ArrayLike<number>[]): number {
  let sum = 0;
  a.forEach((block, k) => {
    for (let i = 0; i < block.length; i++) {
      const d = block[i] - b[k][i];
      sum += d * d;
    }
  });
  return Math.sqrt(sum);
}

/** cos(a, b) = ⟨a, b⟩ / (‖a‖·‖b‖); NaN when either is zero. */
export function cosine(a: ArrayLike<number>[], b: ArrayLike<number>[]): number {
  let dot = 0;
  a.forEach((block, k) => {
    for (let i = 0; i < block.length; i++) dot += block[i] * b[k][i];
  });
  const denominator = norm(a) * norm(b);
  return denominator > 0 ? dot / denominator : NaN;
}

/**
 * Gradient predictiveness at step size s: ‖∇L(w) − ∇L(w − s·η·∇L(w))‖ (paper Fig. 4b, "ℓ2 change in
 * gradient"). Small means the gradient at w still describes the landscape a step away.
 */
export function gradientChange(gradient: ArrayLike<number>[], gradientAfterStep: ArrayLike<number>[]): number {
  return distance(gradient, gradientAfterStep);
}

/**
 * Effective β-smoothness along the step: ‖∇L(w) − ∇L(w′)‖ / ‖w − w′‖ with w′ = w − s·η·∇L(w), so
 * ‖w − w′‖ = s·η·‖∇L(w)‖. The largest over the step sizes is the paper's "effective β-smoothness"
 * (Fig. 4c); for a quadratic ½wᵀAw it never exceeds A's largest eigenvalue, and equals it along that eigenvector.
 */
export function smoothness(gradChange: number, stepSize: number, learningRate: number, gradNorm: number): number {
  const moved = stepSize * learningRate * gradNorm;
  return moved > 0 ? gradChange / moved : NaN;
}

/**
 * Internal covariate shift of layer i at step t (paper Definition 2.1): G = ∇_{Wᵢ} L(W₁ᵗ, …, W_kᵗ) and
 * G′ = ∇_{Wᵢ} L(W₁ᵗ⁺¹, …, W_{i−1}ᵗ⁺¹, Wᵢᵗ, …, W_kᵗ), the layer's gradient after only the layers before it
 * took this step's update, on the same batch. Reported as ‖G − G′‖ and cos(G, G′).
 */
export function internalCovariateShift(g: ArrayLike<number>[], gAfter: ArrayLike<number>[]): { distance: number; cosine: number } {
  return { distance: distance(g, gAfter), cosine: cosine(g, gAfter) };
}

/** Loss variation at one step (paper Fig. 4a): the min–max band of L(w − s·η·∇L(w)) over the step sizes. */
export function lossBand(losses: (number | null)[]): { min: number; max: number } | null {
  const finite = losses.filter((v): v is number => v !== null && Number.isFinite(v));
  return finite.length ? { min: Math.min(...finite), max: Math.max(...finite) } : null;
}

const finiteOrNull = (v: number): number | null => (Number.isFinite(v) ? v : null);

function mean(values: number[]): number | null {
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : null;
}

function largest(values: (number | null)[]): number | null {
  const finite = values.filter((v): v is number => v !== null && Number.isFinite(v));
  return finite.length ? Math.max(...finite) : null;
}

/**
 * One number per curve for a run: the mean over probed steps of the band's width (loss max − min;
 * relative: ÷ the loss at the first probe, where training started), of the largest gradient change, and of
 * the effective β-smoothness.
 */
export function summarize(samples: LandscapeSample[]): LandscapeSummary {
  const spans: number[] = [];
  const relative: number[] = [];
  const changes: number[] = [];
  const betas: number[] = [];
  const start = samples.find((s) => s.loss !== null && Math.abs(s.loss) > 0)?.loss;
  for (const s of samples) {
    const band = lossBand(s.losses);
    if (band) {
      spans.push(band.max - band.min);
      if (start) relative.push((band.max - band.min) / Math.abs(start));
    }
    const change = largest(s.gradChange);
    if (change !== null) changes.push(change);
    const beta = largest(s.smoothness);
    if (beta !== null) betas.push(beta);
  }
  const out = (v: number | null) => (v === null ? null : finiteOrNull(v));
  return {
    lossSpan: out(mean(spans)),
    relativeLossSpan: out(mean(relative)),
    gradChange: out(mean(changes)),
    smoothness: out(mean(betas)),
  };
}
