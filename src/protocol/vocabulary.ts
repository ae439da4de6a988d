/**
 * The words every side shares (worker, host, editor, webview, CLI), each defined once: a runtime list
 * where code needs to enumerate or validate them, and the type derived from it.
 */

/** The norm layers a refactor or a what-if run can produce. */
export const NORM_KINDS = ['batchNorm', 'layerNorm', 'groupNorm', 'rmsNorm', 'instanceNorm'] as const;
export type NormKind = (typeof NORM_KINDS)[number];

/** Each norm kind's layer class name (tfjs's, or NormScope's own layers in src/layers). */
export const NORM_CLASS_NAMES: Readonly<Record<NormKind, string>> = {
  batchNorm: 'BatchNormalization',
  layerNorm: 'LayerNormalization',
  groupNorm: 'GroupNormalization',
  rmsNorm: 'RMSNormalization',
  instanceNorm: 'InstanceNormalization',
};

export function isNormKind(value: unknown): value is NormKind {
  return typeof value === 'string' && (NORM_KINDS as readonly string[]).includes(value);
}

/** Kinds a run raises from its measurements (src/diagnosis/detectors). */
export const DYNAMIC_FINDING_KINDS = [
  'dead',
  'gamma-collapse',
  'vanishing',
  'exploding',
  'non-finite',
  'saturated',
  'effective-lr',
  'bn-train-inference-drift',
] as const;
/** Kinds only a run log of the user's own distributed training raises (src/runlog: worldSize > 1). */
export const DISTRIBUTED_FINDING_KINDS = ['bn-per-device-batch'] as const;
/** Kinds only the static rules raise (src/analysis/rules: from the source, no run). */
export const STATIC_FINDING_KINDS = [
  'bn-small-batch',
  'bn-in-recurrent',
  'ln-on-conv',
  'l2-before-norm',
  'post-norm',
  'missing-norm',
] as const;
/** Stable identifiers of every finding NormScope can raise (README: "Findings"). */
export const FINDING_KINDS = [
  ...DYNAMIC_FINDING_KINDS,
  ...DISTRIBUTED_FINDING_KINDS,
  ...STATIC_FINDING_KINDS,
  'rough-landscape',
  /** A detector threw (a NormScope bug): its findings are missing from the run. */
  'detector-failed',
] as const;
export type FindingKind = (typeof FINDING_KINDS)[number];

/** What the panel exports: a chart as PNG, the samples as CSV, or the run report as JSON. */
export const EXPORT_KINDS = ['png', 'csv', 'json'] as const;
export type ExportKind = (typeof EXPORT_KINDS)[number];

/** Levels of the log channel (the extension's output channel, the CLI's stderr). */
export type LogLevel = 'trace' | 'info' | 'warn' | 'error';

/** Why a run ended before its last step (`RunReport.stoppedEarly`). */
export type StoppedEarly = 'cancelled' | `non-finite loss at step ${number}` | `the script failed after training: ${string}`;

/** tfjs layer classes that pass statistics through unchanged (dropout, noise, activations): detectors and static rules look past them. */
export const PASS_THROUGH_CLASSES: readonly string[] = [
  'Dropout',
  'SpatialDropout1D',
  'GaussianNoise',
  'GaussianDropout',
  'AlphaDropout',
  'Activation',
  'ReLU',
  'LeakyReLU',
];
