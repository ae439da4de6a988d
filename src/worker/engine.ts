/**
 * A whole instrumented training run, in-process: backend → load the model → layer table → train
 * `steps` steps measuring every `samplingInterval`-th → report. Used by the worker process
 * (./main) and directly by tests and the benchmark.
 *
 * Failure behaviour: for any failure (the user's code, bad options, a NormScope bug) it first
 * emits an `error` event and then rejects with a `RunFailedError` carrying the same `RunError`.
 * Cancellation (the signal) is not a failure: the run stops at the next step boundary and resolves
 * with `stoppedEarly: 'cancelled'`. Every tensor and variable the run created is released, whatever
 * the outcome, so the process stays usable for the next run.
 */
import { randomUUID } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import type { RunOptions, RunReport, WorkerEvent } from '../protocol';
import { RunFailedError } from '../protocol';
import { registerNormLayers } from '../layers';
import { selectBackend } from './backend';
import { toRunError, UserCodeError } from '../userCode/errors';
import { checkModelFile } from '../userCode/fileCheck';
import { trainModel } from './modelRun';
import { inRunScope } from './runScope';
import { runScript } from './script/run';

function checkOptions(options: RunOptions): void {
  const bad = (what: string) => new UserCodeError('bad-options', what, null);
  if (!options.file) throw new UserCodeError('bad-file', 'no model file given', null);
  checkModelFile(options.file);
  if (!(Number.isInteger(options.steps) && options.steps > 0)) throw bad(`steps must be a positive integer, got ${options.steps}`);
  if (options.batchSize !== undefined && !(Number.isInteger(options.batchSize) && options.batchSize > 0))
    throw bad(`batchSize must be a positive integer, got ${options.batchSize}`);
  if (!(Number.isInteger(options.samplingInterval) && options.samplingInterval > 0))
    throw bad(`samplingInterval must be a positive integer, got ${options.samplingInterval}`);
  if (options.args !== undefined && !Array.isArray(options.args))
    throw bad(`args must be an array of arguments, got ${JSON.stringify(options.args)}`);
  if (options.model !== undefined && !/^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$/.test(options.model))
    throw bad(`model must be a function name like createModel, got ${JSON.stringify(options.model)}`);
}

export async function runTraining(
  options: RunOptions,
  emit: (e: WorkerEvent) => void,
  signal: AbortSignal,
  runId: string = randomUUID(),
): Promise<RunReport> {
  const started = performance.now();
  try {
    checkOptions(options);
    const backend = await selectBackend(options.backend);
    // NormScope's own norm layers must be known before a model.json (or a what-if swap) names them.
    registerNormLayers(tf);
    emit({ type: 'backend', runId, backend });
    const report = options.script
      ? await inRunScope(() => runScript({ options, backend, emit, signal, runId, started }))
      : await trainModel(options, backend, emit, signal, runId, started);
    emit({ type: 'done', runId, report });
    return report;
  } catch (e) {
    const error = toRunError(e);
    emit({ type: 'error', runId, error });
    throw new RunFailedError(error);
  }
}
