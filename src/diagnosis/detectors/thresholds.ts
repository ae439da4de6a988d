/**
 * Default thresholds of the run detectors, each from the published rule it reproduces.
 * Settings may override any of them (`detectFindings(input, { deadFraction: 0.7 })`).
 */
export interface DetectorThresholds {
  /** `dead`: a layer is dead when more than this fraction of its units were never active across the batch.
   *  SageMaker Debugger DeadRelu: threshold_layer = 50 % of units inactive in > 99 % of samples. */
  deadFraction: number;
  /** `gamma-collapse`: every |γ| of a norm layer below this (γ starts at 1, so the layer passes < 10 % of
   *  its normalized signal; 0 silences it). */
  gammaCollapse: number;
  /** `vanishing`: RMS gradient ‖∂L/∂W‖/√n below this. SageMaker Debugger VanishingGradient and
   *  DeepDiagnosis: mean |gradient| < 1e-7. */
  vanishingGradient: number;
  /** `vanishing`: first/last layer gradient-norm ratio below this … (AutoTrainer β₁ = 1e-3) */
  vanishingRatio: number;
  /** … with the first layer's gradient norm below this (AutoTrainer β₂ = 1e-4). */
  vanishingFirstGradient: number;
  /** `exploding`: first/last layer gradient-norm ratio above this (AutoTrainer β₃ = 70). */
  explodingRatio: number;
  /** `exploding`: output variance growing by more than this factor per layer through depth. */
  varianceGrowthPerLayer: number;
  /** `exploding`: a layer's output variance growing by more than this factor over the run. */
  varianceGrowthOverRun: number;
  /** `exploding`: the loss above this many times its starting level (the loss's scale is the model's and the
   *  reduction's, so only growth counts), in consecutive steps. */
  explodingLossGrowth: number;
  /** `saturated`: fraction of tanh/sigmoid pre-activations beyond ±5 (DeepDiagnosis: 50 %). */
  saturatedFraction: number;
  /** `effective-lr`: healthy band of ‖ΔW‖/‖W‖ per step (DeepDiagnosis: [1e-5, 1e-1]). */
  updateRatioMin: number;
  updateRatioMax: number;
  /** `bn-train-inference-drift`: moving mean off the batch mean by more than this many batch σ … */
  driftMeanGap: number;
  /** … or moving variance off the batch variance by more than this relative amount. */
  driftVarGap: number;
  /** A per-step condition must hold in this many consecutive samples (fewer when the run has fewer)
   *  so a single noisy batch does not raise a finding. */
  consecutiveSamples: number;
}

export const DEFAULT_THRESHOLDS: Readonly<DetectorThresholds> = Object.freeze({
  deadFraction: 0.5,
  gammaCollapse: 0.1,
  vanishingGradient: 1e-7,
  vanishingRatio: 1e-3,
  vanishingFirstGradient: 1e-4,
  explodingRatio: 70,
  varianceGrowthPerLayer: 10,
  varianceGrowthOverRun: 100,
  explodingLossGrowth: 100,
  saturatedFraction: 0.5,
  updateRatioMin: 1e-5,
  updateRatioMax: 1e-1,
  driftMeanGap: 0.5,
  driftVarGap: 0.5,
  consecutiveSamples: 3,
});
