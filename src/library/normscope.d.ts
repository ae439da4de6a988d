/**
 * The `normscope` npm package's library entry (dist/index.d.ts; `require('normscope')`), next to its `normscope`
 * command. src/library/index.ts implements exactly these declarations (typecheck fails where it does not).
 */
import type * as tf from '@tensorflow/tfjs';

export interface NormscopeCallbackOptions {
  /** Measure every Nth batch (optimizer step); 1 = every one. Other batches record only their loss. */
  every?: number;
  /** The run folder; default a new one under $NORMSCOPE_DIR, else ./.normscope/runs. */
  dir?: string;
  /** The training script, recorded relative to the project root (default: the script Node runs). */
  script?: string;
  /** Default: the nearest folder up from the script with .git, package.json, pyproject.toml, setup.py or setup.cfg, else its folder. */
  projectRoot?: string;
  /** Size budget of the log's samples in MiB (default 128): older samples are thinned to stay under it. */
  budgetMB?: number;
}

/**
 * A callback for `model.fit(x, y, { callbacks: [normscopeCallback()] })` (or fitDataset), next to plain-object callbacks
 * or after tf.Callback objects such as tf.callbacks.earlyStopping(); plus the run's folder and its end.
 */
export interface NormscopeCallback extends tf.CustomCallbackArgs {
  /** The run folder, once the first fit() began. */
  readonly dir: string | null;
  /** Ends the run log now (otherwise it ends when the process exits after training). */
  close(): void;
}

/**
 * Measures every layer of the model at every `every`-th batch of fit(), as `normscope check` does, and writes a run
 * log that `normscope report` and `normscope watch` read. Import `normscope` before building the model so findings
 * point at the lines that created the layers. One callback is one run: pass the same one to every fit() of a loop.
 */
export declare function normscopeCallback(options?: NormscopeCallbackOptions): NormscopeCallback;
