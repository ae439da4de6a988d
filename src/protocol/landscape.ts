/**
 * The loss-landscape instrument (issue 13, after Santurkar et al. 2018, "How Does Batch Normalization
 * Help Optimization?"): options, per-step samples and the run summary. Formulas: src/worker/landscape/formulas.ts.
 */

/** Multiples of the optimizer's step η·∇L(w) probed at each landscape step, when not configured. */
export const DEFAULT_STEP_SIZES: readonly number[] = [0.25, 1, 2, 4];
/** Probe every K-th training step, when not configured. */
export const DEFAULT_LANDSCAPE_EVERY = 10;

/** `RunOptions.landscape`: opt-in (setting `normscope.landscape`, CLI `--landscape [every=K]`). */
export interface LandscapeOptions {
  /** Probe at every K-th step (steps 0, K, 2K, …). */
  every: number;
  /** Multiples s of the optimizer's step: the probe visits w − s·η·∇L(w). Default DEFAULT_STEP_SIZES. */
  stepSizes?: number[];
  /** Also measure internal covariate shift per layer (one extra forward/backward pass per weighted layer). Default true. */
  ics?: boolean;
}

/** Internal covariate shift of one layer at one step: its gradient G before and G′ after the layers below it moved. */
export interface IcsValue {
  /** `LayerInfo.index`. */
  layer: number;
  /** ‖G − G′‖. */
  distance: number | null;
  /** cos(G, G′); 1 means the update below did not change this layer's gradient direction. */
  cosine: number | null;
}

/** What the instrument measured at one training step (before that step's update). */
export interface LandscapeSample {
  step: number;
  /** L(w) at the current weights. */
  loss: number | null;
  /** ‖∇L(w)‖. */
  gradNorm: number | null;
  /** L(w − s·η·∇L(w)) per step size (null when not finite). */
  losses: (number | null)[];
  /** Gradient predictiveness: ‖∇L(w) − ∇L(w − s·η·∇L(w))‖ per step size. */
  gradChange: (number | null)[];
  /** ‖Δ∇L‖ / ‖Δw‖ per step size; their max is the effective β-smoothness at this step. */
  smoothness: (number | null)[];
  /** Per weighted layer, when ICS is on. */
  ics?: IcsValue[];
}

/** Means over the probed steps of each step's band width: one number per curve, comparable between runs of one model. */
export interface LandscapeSummary {
  /** Mean of max − min of the loss over the step sizes. */
  lossSpan: number | null;
  /** The same, divided by the loss at the first probe (where training started): scale-free across loss functions. */
  relativeLossSpan: number | null;
  /** Mean of the largest ‖∇L(w) − ∇L(w′)‖. */
  gradChange: number | null;
  /** Mean of the effective β-smoothness (largest ‖Δ∇L‖/‖Δw‖). */
  smoothness: number | null;
}

/** `RunReport.landscape`. */
export interface LandscapeReport {
  /** η: the optimizer's learning rate (or the fallback named in `note`). */
  learningRate: number;
  stepSizes: number[];
  every: number;
  samples: LandscapeSample[];
  summary: LandscapeSummary;
  /** Why η is a fallback, or what was skipped. */
  note?: string;
}
