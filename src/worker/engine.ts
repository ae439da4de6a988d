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
import {
  STAT_NAMES,
  type BackendReport,
  type Finding,
  type LayerInfo,
  type RunEvent,
  type RunOptions,
  type RunReport,
  type StepSample,
} from '../protocol';
import { DEFAULT_SETTINGS, RunFailedError } from '../protocol';
import { registerNormLayers } from '../layers';
import { selectBackend } from './backend';
import { swapNormAtLine } from './surgery';
import { toRunError, UserCodeError } from './errors';
import { checkThresholds, findingsFor } from './flags';
import { Instrumenter } from './instrument/hooks';
import { DeviceMeter, HostMeter, viewFor } from './instrument/meters';
import { describeLayers, type LayerProbe } from './instrument/probes';
import { instrumentedStep, plainStep, StepError, totalLoss, type StepContext } from './instrument/step';
import { landscapeFindings } from './landscape/findings';
import { landscapeFor, type LandscapeInstrument } from './landscape/instrument';
import { setLearningRate } from './training/learningRate';
import { loadModel, type LoadedModel } from './loader';
import { checkModelFile } from './loader/fileCheck';
import { buildReport } from './report';
import { withSeededRandom } from './training/seed';
import { batchSource, ensureCompiled, learningRateOf, trainableOf, validateSpec, type BatchSource } from './training/spec';
import { ProgressBatcher } from './progress';
import { runScript } from './script/run';

/** Default batch size for synthesized data when neither the options nor the spec give one. */
export const DEFAULT_BATCH_SIZE = DEFAULT_SETTINGS.batchSize;

/** Plain steps timed after the run (when `measureOverhead`) to report the instrumentation cost. */
export const OVERHEAD_STEPS = 10;

/** Times plain steps after the measured ones, so they do not change what was measured. */
async function timePlainSteps(ctx: StepContext, src: BatchSource, count: number, into: number[], signal: AbortSignal): Promise<void> {
  for (let i = 0; i < count && !signal.aborted; i++) {
    const batch = await src.next();
    try {
      const t = performance.now();
      plainStep(ctx, batch);
      into.push(performance.now() - t);
    } finally {
      if (src.transient) tf.dispose([...batch.xs, ...batch.ys]);
    }
  }
}

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

/** Releases everything the run made, including variables tfjs scopes do not track. */
function releaseRun(variablesBefore: Set<string>): void {
  tf.engine().endScope();
  const registered = (tf.engine() as unknown as { registeredVariables: Record<string, tf.Variable> }).registeredVariables;
  for (const [name, variable] of Object.entries(registered)) {
    if (!variablesBefore.has(name)) variable.dispose();
  }
}

/** Runs `body` in a tensor scope; afterwards everything it made (tensors, variables) is released. */
async function inRunScope<T>(body: () => Promise<T>): Promise<T> {
  const variablesBefore = new Set(Object.keys((tf.engine() as unknown as { registeredVariables: object }).registeredVariables));
  tf.engine().startScope();
  try {
    return await body();
  } finally {
    releaseRun(variablesBefore);
  }
}

/** A step failure as a user error pointing at the layer that failed, or at the user's frame. */
function stepFailure(e: StepError, probes: LayerProbe[], loaded: LoadedModel, file: string, step: number): UserCodeError {
  const layer = e.layerIndex !== null ? probes[e.layerIndex]?.info : undefined;
  const context = `training step ${step} failed${layer ? ` in layer '${layer.name}' (${layer.className})` : ''}`;
  return UserCodeError.from(e.cause, 'training-failed', context, loaded.sourceMap, file, layer?.source ?? { file });
}

/** Loss in inference mode (moving BatchNorm statistics, no dropout) on the next batch, unseen in training. */
async function inferenceLoss(model: tf.LayersModel, src: BatchSource): Promise<number> {
  const batch = await src.next();
  try {
    const out = model.evaluate(batch.xs.length === 1 ? batch.xs[0] : batch.xs, batch.ys.length === 1 ? batch.ys[0] : batch.ys, {
      batchSize: src.batchSize,
    });
    const first = Array.isArray(out) ? out[0] : out;
    const value = (await first.data())[0];
    tf.dispose(out);
    return value;
  } finally {
    if (src.transient) tf.dispose([...batch.xs, ...batch.ys]);
  }
}

export async function runTraining(
  options: RunOptions,
  emit: (e: RunEvent) => void,
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
      ? await inRunScope(() => runScript(options, backend, emit, signal, runId, started))
      : await trainModel(options, backend, emit, signal, runId, started);
    emit({ type: 'done', runId, report });
    return report;
  } catch (e) {
    const error = toRunError(e);
    emit({ type: 'error', runId, error });
    throw new RunFailedError(error);
  }
}

async function trainModel(
  options: RunOptions,
  backend: BackendReport,
  emit: (e: RunEvent) => void,
  signal: AbortSignal,
  runId: string,
  started: number,
): Promise<RunReport> {
  const file = options.file;
  const variablesBefore = new Set(Object.keys((tf.engine() as unknown as { registeredVariables: object }).registeredVariables));
  tf.engine().startScope();
  let instrumenter: Instrumenter | null = null;
  let landscape: LandscapeInstrument | null = null;
  let source: BatchSource | null = null;
  let model: tf.LayersModel | null = null;
  let optimizer: tf.Optimizer | null = null;
  try {
    const { loaded, spec, src } = await withSeededRandom(options.seed, async () => {
      let loaded = await loadModel(file, { model: options.model, args: options.args });
      model = loaded.model;
      if (options.normSwap) {
        loaded = await swapNormAtLine(loaded, file, options.normSwap.line, options.normSwap.to);
        model = loaded.model;
      }
      const spec = validateSpec(loaded.spec, file);
      try {
        ensureCompiled(loaded.model, spec);
      } catch (e) {
        throw UserCodeError.from(e, 'bad-spec', 'cannot compile the model with its optimizer and loss', loaded.sourceMap, file, { file });
      }
      const src = await batchSource(loaded.model, spec, options.batchSize ?? DEFAULT_BATCH_SIZE, options.seed, file).catch((e) => {
        throw UserCodeError.from(e, 'bad-spec', 'normscope.data() failed', loaded.sourceMap, file, { file });
      });
      return { loaded, spec, src };
    });
    source = src;
    const probes = describeLayers(loaded.model, loaded.sourceOf);
    instrumenter = new Instrumenter(probes);
    const trainable = trainableOf(loaded.model);
    if (options.learningRate !== undefined) setLearningRate(trainable.optimizer, options.learningRate);
    if (!trainable.ownsOptimizer) optimizer = trainable.optimizer;
    const view = viewFor(backend.name);
    const ctx: StepContext = {
      model: loaded.model,
      trainable,
      probes,
      instrumenter,
      meter: view ? () => new HostMeter(view) : () => new DeviceMeter(),
      variables: loaded.model.trainableWeights.map((w) => w.read() as tf.Variable),
    };
    const steps = spec.steps ?? options.steps;
    landscape = options.landscape ? landscapeFor(options.landscape, ctx, learningRateOf(trainable.optimizer)) : null;
    let batch = await src.next();
    const layers: LayerInfo[] = probes.map((p) => p.info);
    emit({ type: 'layers', runId, file, layers, statNames: STAT_NAMES, steps, batchSize: src.batchSize, syntheticData: src.synthetic });

    const thresholds = checkThresholds(options.thresholds);
    const flagsInput = { layers, statNames: STAT_NAMES, batchSize: src.batchSize, learningRate: learningRateOf(trainable.optimizer) };
    const samples: StepSample[] = [];
    const loss: number[] = [];
    const instrumentedMs: number[] = [];
    const plainMs: number[] = [];
    let flags: Finding[] = [];
    const progress = new ProgressBatcher(
      (batchOfSamples) => emit({ type: 'progress', runId, samples: batchOfSamples }),
      () => {
        flags = [...findingsFor({ ...flagsInput, samples, loss }, thresholds), ...landscapeFindings(layers, landscape?.report())];
        emit({ type: 'flags', runId, flags });
      },
    );
    let stoppedEarly: string | undefined;
    for (let step = 0; step < steps; step++) {
      if (signal.aborted) {
        stoppedEarly = 'cancelled';
        break;
      }
      if (step > 0) batch = await src.next();
      const probing = landscape?.due(step) ? landscape : null;
      try {
        probing?.before(step, () => totalLoss(ctx, batch));
        const t0 = performance.now();
        if (step % options.samplingInterval === 0) {
          const { loss: value, values } = instrumentedStep(ctx, batch);
          const stepMs = performance.now() - t0;
          instrumentedMs.push(stepMs);
          loss.push(value);
          const sample = { step, loss: value, stepMs, values };
          samples.push(sample);
          progress.add(sample);
        } else {
          loss.push(plainStep(ctx, batch));
          plainMs.push(performance.now() - t0);
        }
        probing?.after(() => totalLoss(ctx, batch));
      } catch (e) {
        throw e instanceof StepError ? stepFailure(e, probes, loaded, file, step) : e;
      } finally {
        if (src.transient) tf.dispose([...batch.xs, ...batch.ys]);
      }
      if (!Number.isFinite(loss[loss.length - 1])) {
        stoppedEarly = `non-finite loss at step ${step}`;
        break;
      }
      // Let the cancel request (and the host's other messages) in between steps.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    progress.flush(true);
    const evalLoss = stoppedEarly ? null : await inferenceLoss(loaded.model, src);
    if (options.measureOverhead && !stoppedEarly) await timePlainSteps(ctx, src, Math.min(OVERHEAD_STEPS, steps), plainMs, signal);
    return buildReport({
      file,
      backend,
      steps,
      batchSize: src.batchSize,
      syntheticData: src.synthetic,
      loss,
      layers,
      samples,
      flags,
      instrumentedMs,
      plainMs,
      totalMs: performance.now() - started,
      stoppedEarly,
      evalLoss,
      landscape: landscape?.report(),
      learningRate: flagsInput.learningRate,
    });
  } finally {
    instrumenter?.restore();
    landscape?.dispose();
    source?.dispose();
    try {
      (model as tf.LayersModel | null)?.dispose();
    } catch {
      /* already disposed by the user's code; releaseRun sweeps what is left */
    }
    try {
      // A model compiled with an optimizer instance does not own (so did not dispose) it.
      optimizer?.dispose();
    } catch {
      /* the model owned and disposed it already */
    }
    releaseRun(variablesBefore);
  }
}
