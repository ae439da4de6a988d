/**
 * Data shapes of one training run, shared by the worker, the host, the webview and the CLI.
 * `RunReport` is the stable JSON contract of `normscope check --json`.
 */

import type { LandscapeOptions, LandscapeReport } from './landscape';
import type { FindingKind, NormKind, StoppedEarly } from './vocabulary';

export type { FindingKind, NormKind } from './vocabulary';

/** A backend the worker can train on. */
export type BackendName = 'tensorflow' | 'wasm' | 'cpu';
/** The `normscope.backend` setting / `--backend` flag. */
export type BackendChoice = 'auto' | BackendName;
export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', 'tensorflow', 'wasm', 'cpu'];

/** Where a layer was created in the user's code. `line` and `column` are 1-based. */
export interface SourceLocation {
  file: string;
  line: number;
  column: number;
}

/**
 * Every per-layer statistic, in the order used by the flat `StepSample.values` rows.
 * Each is defined once, with its formula, in src/worker/stats.
 */
export const STAT_NAMES = [
  'mean',
  'variance',
  'std',
  'min',
  'max',
  'gain',
  'zeroFraction',
  'deadFraction',
  'saturatedFraction',
  'nonFinite',
  'activationGradNorm',
  'weightNorm',
  'gradNorm',
  'updateNorm',
  'updateRatio',
  'gammaMean',
  'gammaStd',
  'gammaMin',
  'gammaMax',
  'betaMean',
  'movingMeanGap',
  'movingVarGap',
  'movingUpdates',
] as const;
export type StatName = (typeof STAT_NAMES)[number];

/** Static description of one layer, sent once per run before any progress. */
export interface LayerInfo {
  /** Position in `model.layers`. */
  index: number;
  name: string;
  className: string;
  /** Output shape with `null` for the batch dimension (array of shapes for multi-output layers). */
  outputShape: (number | null)[] | (number | null)[][];
  paramCount: number;
  /** Activation name for layers that have one ('relu', 'tanh', ...). */
  activation?: string;
  /** True for BatchNorm, LayerNorm and NormScope's own norm layers. */
  isNorm: boolean;
  /**
   * BatchNorm with moving averages: the weight each new batch gets in them (PyTorch's `momentum`, 0.1 by default;
   * tfjs's is 1 − its `momentum` 0.99), or null for a cumulative average (PyTorch `momentum=None`). With the
   * `movingUpdates` statistic it says how much of the averages' initial values is left: (1 − weight)^updates.
   */
  movingAverageWeight?: number | null;
  /** `null` for layers of a model.json, or created outside the user's files. */
  source: SourceLocation | null;
  /**
   * The layer whose output this layer takes as its input, when the engine saw it (the PyTorch engine, by tensor
   * identity): the Linear that feeds a ReLU. Findings about an activation are shown on that layer's line too.
   */
  fedBy?: string;
  /** Its output is the model's output (the PyTorch engine saw it): a VAE's final sigmoid, a classifier's last layer. */
  modelOutput?: boolean;
}

/** Another place a finding concerns, shown there too (the layer that feeds a dead activation). */
export interface RelatedLocation {
  layer: string | null;
  source: SourceLocation | null;
  /** What the finding means at that place, naming both layers. */
  message: string;
}

export type Severity = 'error' | 'warning' | 'info';

/** One thing wrong with the model, with the why and what to do. */
export interface Finding {
  kind: FindingKind;
  severity: Severity;
  /** Layer name, or null for a whole-model finding (e.g. loss explosion). */
  layer: string | null;
  /** First step it was seen at, or null for static (source-only) findings. */
  step: number | null;
  /** What is wrong and why, in one or two sentences. */
  message: string;
  /** Suggested fix in words. */
  fix?: string;
  /** A concrete refactor that applies the fix, when one exists. */
  refactor?:
    | { action: 'swap'; to: NormKind }
    | { action: 'insert-norm'; norm: NormKind }
    | { action: 'pre-norm' }
    | { action: 'remove-regularizer' };
  source: SourceLocation | null;
  /** Other places the finding concerns; the editor shows it on each of their lines too, linked to this one. */
  related?: RelatedLocation[];
}

/** What to run. */
export interface RunOptions {
  /** Absolute path of a JS/TS module or a model.json. */
  file: string;
  steps: number;
  /** Overrides the batch size of synthesized data (the model's own `normscope.batchSize` wins). */
  batchSize?: number;
  backend: BackendChoice;
  seed: number;
  /** Measure every Nth step. */
  samplingInterval: number;
  /** Also time plain (uninstrumented) steps to report the overhead. */
  measureOverhead?: boolean;
  /**
   * Overrides of the detectors' thresholds by name (src/diagnosis/detectors/thresholds.ts, README "Findings"),
   * e.g. `{ deadFraction: 0.7 }`. Unknown names are an error.
   */
  thresholds?: Record<string, number>;
  /**
   * The function of `file` that builds the model (`createDeepQNetwork`, `models.encoder`); without it the
   * exported model or factory, else the file's only builder function.
   */
  model?: string;
  /** Arguments for that function (CLI `--args`, the editor's input); the file's `normscope` spec wins. */
  args?: unknown[];
  /**
   * PyTorch: the arguments as a Python argument list, as written between the parentheses of a call
   * (`GPTConfig(n_layer=2), dropout=0.1`), evaluated in the file's namespace (CLI `--args` on a .py file, the editor's
   * input). A lone `[...]` is the JSON form: one argument per element. Wins over `args` and the file's spec.
   */
  pythonArgs?: string;
  /** PyTorch: the model's input shape without the batch dimension (CLI `--input-shape`); wins over the file's spec. */
  inputShape?: number[];
  /**
   * The user's project (the editor's workspace folder): a PyTorch layer built by any of its files maps to that line
   * (a package of the project the script imports). Absent: the nearest folder up with .git, pyproject.toml, setup.py
   * or setup.cfg, else the file's folder.
   */
  projectRoot?: string;
  /**
   * `restricted` (default): the model code runs under Node's permission model — reads anywhere, writes
   * only to a temp folder, no child processes, no native addons (README "Security and trust").
   * `off`: the user's own rights, for `normscope run` (a script the user runs on purpose) or when the
   * `normscope.restrictPermissions` setting / `--no-restrict` flag turns it off.
   */
  permissions?: 'restricted' | 'off';
  /** What-if run: replace the normalization layer(s) created at this 1-based line of `file` with `to`. */
  normSwap?: { line: number; to: NormKind };
  /**
   * `file` is a training script (`normscope run`): run it with these command-line arguments and measure
   * the models it trains with fit/fitDataset/trainOnBatch, for `steps` steps or, with `untilDone`, until it ends.
   */
  script?: { args: string[]; untilDone?: boolean };
  /** Loss-landscape instrument (issue 13); off when absent. */
  landscape?: LandscapeOptions;
  /** Overrides the optimizer's learning rate for this run (Compare's learning-rate sweep). */
  learningRate?: number;
}

/** Which backend ran, and why the ones tried before it did not. */
export interface BackendReport {
  name: BackendName;
  notes: string[];
}

/** Measurements of one sampled step. */
export interface StepSample {
  step: number;
  loss: number;
  stepMs: number;
  /** Row-major [layer][stat] in `LayerInfo.index` and `STAT_NAMES` order; NaN (null over JSON) where a stat does not apply. */
  values: number[];
}

/** One layer in the final report: every statistic as a series over the sampled steps. */
export interface LayerReport {
  name: string;
  className: string;
  source: SourceLocation | null;
  stats: Partial<Record<StatName, (number | null)[]>>;
  sampledSteps: number[];
  /** LayerInfo.fedBy: the layer whose output this one takes, when the engine saw it. */
  fedBy?: string;
  /** LayerInfo.modelOutput: its output is the model's output. */
  modelOutput?: boolean;
}

/** The result of a run: the JSON printed by `normscope check --json`. */
export interface RunReport {
  file: string;
  backend: BackendName;
  backendNotes: string[];
  steps: number;
  batchSize: number;
  syntheticData: boolean;
  /** Loss at every step (not only sampled ones). */
  loss: (number | null)[];
  /**
   * Loss of the trained model in inference mode (BatchNorm uses its moving averages) on a batch it did not
   * train on; null when the run stopped early. A large gap to the training loss is the train/inference
   * discrepancy small batches cause.
   */
  evalLoss: number | null;
  layers: LayerReport[];
  findings: Finding[];
  timing: { instrumentedStepMs: number; plainStepMs: number | null; totalMs: number };
  /** Set when the run stopped early (cancelled, a non-finite loss, a training script that failed after training). */
  stoppedEarly?: StoppedEarly;
  /** The optimizer's learning rate in this run, when it has a numeric one. */
  learningRate?: number;
  /** Loss-landscape measurements, when `RunOptions.landscape` was set. */
  landscape?: LandscapeReport;
}
