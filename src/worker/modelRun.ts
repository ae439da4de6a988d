/**
 * A model (not a training script) run, in three parts: set-up (load the model, swap a norm for a what-if,
 * compile, data, instrumentation), the step loop (train, measure every `samplingInterval`-th step, stream
 * progress and findings), and tear-down (restore the model's layers, release every tensor, variable and
 * optimizer the run made, whatever the outcome).
 */
import * as tf from '@tensorflow/tfjs';
import {
  DEFAULT_SETTINGS,
  STAT_NAMES,
  type BackendReport,
  type Finding,
  type LayerInfo,
  type RunOptions,
  type RunReport,
  type StepSample,
  type StoppedEarly,
  type WorkerEvent,
} from '../protocol';

import { UserCodeError } from '../userCode/errors';
import { checkThresholds, detectorLog, findingsFor } from '../diagnosis/findings';
import { Instrumenter } from './instrument/hooks';
import { DeviceMeter, HostMeter, viewFor } from './instrument/meters';
import { describeLayers, type LayerProbe } from './instrument/probes';
import { instrumentedStep, plainStep, StepError, totalLoss, type StepContext } from './instrument/step';
import { landscapeFindings } from './landscape/findings';
import { landscapeFor, type LandscapeInstrument } from './landscape/instrument';
import { loadModel, type LoadedModel } from './loader';
import { ProgressBatcher } from './progress';
import { buildReport } from '../diagnosis/report';
import { endRunScope, startRunScope } from './runScope';
import { swapNormAtLine } from './surgery';
import { setLearningRate } from './training/learningRate';
import { withSeededRandom } from './training/seed';
import { batchSource, ensureCompiled, learningRateOf, trainableOf, validateSpec, type BatchSource } from './training/spec';
import type { Batch } from './training/synthetic';

/** Default batch size for synthesized data when neither the options nor the spec give one. */
export const DEFAULT_BATCH_SIZE = DEFAULT_SETTINGS.batchSize;

/** Plain steps timed after the run (when `measureOverhead`) to report the instrumentation cost. */
export const OVERHEAD_STEPS = 10;

type Emit = (event: WorkerEvent) => void;

/** What the run owns, filled in as set-up goes so that tear-down releases it even when set-up fails half-way. */
interface Owned {
  variablesBefore: Set<string>;
  instrumenter: Instrumenter | null;
  landscape: LandscapeInstrument | null;
  source: BatchSource | null;
  model: tf.LayersModel | null;
  /** An optimizer the run made (the model does not own, so does not dispose, it). */
  optimizer: tf.Optimizer | null;
}

/** A model loaded, instrumented and ready to train. */
interface Prepared {
  loaded: LoadedModel;
  src: BatchSource;
  probes: LayerProbe[];
  layers: LayerInfo[];
  ctx: StepContext;
  landscape: LandscapeInstrument | null;
  steps: number;
  learningRate: number | undefined;
  firstBatch: Batch;
}

/** What the step loop measured. */
interface Trained {
  samples: StepSample[];
  loss: number[];
  instrumentedMs: number[];
  plainMs: number[];
  findings: Finding[];
  stoppedEarly: StoppedEarly | undefined;
}

export async function trainModel(
  options: RunOptions,
  backend: BackendReport,
  emit: Emit,
  signal: AbortSignal,
  runId: string,
  started: number,
): Promise<RunReport> {
  const owned: Owned = {
    variablesBefore: startRunScope(),
    instrumenter: null,
    landscape: null,
    source: null,
    model: null,
    optimizer: null,
  };
  try {
    const run = await setUp(options, backend, owned);
    const { src, layers } = run;
    emit({
      type: 'layers',
      runId,
      file: options.file,
      layers,
      statNames: STAT_NAMES,
      steps: run.steps,
      batchSize: src.batchSize,
      syntheticData: src.synthetic,
    });
    const trained = await trainSteps(run, options, emit, signal, runId);
    const evalLoss = trained.stoppedEarly ? null : await inferenceLoss(run.loaded.model, src);
    if (options.measureOverhead && !trained.stoppedEarly)
      await timePlainSteps(run.ctx, src, Math.min(OVERHEAD_STEPS, run.steps), trained.plainMs, signal);
    return buildReport({
      file: options.file,
      backend,
      steps: run.steps,
      batchSize: src.batchSize,
      syntheticData: src.synthetic,
      loss: trained.loss,
      layers,
      samples: trained.samples,
      findings: trained.findings,
      instrumentedMs: trained.instrumentedMs,
      plainMs: trained.plainMs,
      totalMs: performance.now() - started,
      stoppedEarly: trained.stoppedEarly,
      evalLoss,
      landscape: run.landscape?.report(),
      learningRate: run.learningRate,
    });
  } finally {
    tearDown(owned);
  }
}

/** Loads the model (seeded), swaps a norm for a what-if run, compiles it, opens its data and instruments it. */
async function setUp(options: RunOptions, backend: BackendReport, owned: Owned): Promise<Prepared> {
  const file = options.file;
  const { loaded, spec, src } = await withSeededRandom(options.seed, async () => {
    let loaded = await loadModel(file, { model: options.model, args: options.args });
    owned.model = loaded.model;
    if (options.normSwap) {
      loaded = await swapNormAtLine(loaded, file, options.normSwap.line, options.normSwap.to);
      owned.model = loaded.model;
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
  owned.source = src;
  const probes = describeLayers(loaded.model, loaded.sourceOf);
  const instrumenter = (owned.instrumenter = new Instrumenter(probes));
  const trainable = trainableOf(loaded.model);
  if (options.learningRate !== undefined) setLearningRate(trainable.optimizer, options.learningRate);
  if (!trainable.ownsOptimizer) owned.optimizer = trainable.optimizer;
  const view = viewFor(backend.name);
  const ctx: StepContext = {
    model: loaded.model,
    trainable,
    probes,
    instrumenter,
    meter: view ? () => new HostMeter(view) : () => new DeviceMeter(),
    variables: loaded.model.trainableWeights.map((w) => w.read() as tf.Variable),
  };
  const learningRate = learningRateOf(trainable.optimizer);
  const landscape = (owned.landscape = options.landscape ? landscapeFor(options.landscape, ctx, learningRate) : null);
  const firstBatch = await src.next();
  const layers = probes.map((p) => p.info);
  return { loaded, src, probes, layers, ctx, landscape, steps: spec.steps ?? options.steps, learningRate, firstBatch };
}

/** Trains until `steps`, a cancel or a non-finite loss, streaming progress and the findings so far. */
async function trainSteps(run: Prepared, options: RunOptions, emit: Emit, signal: AbortSignal, runId: string): Promise<Trained> {
  const { loaded, src, probes, layers, ctx, landscape } = run;
  const thresholds = checkThresholds(options.thresholds);
  const log = detectorLog(emit, runId);
  const findingsInput = { layers, statNames: STAT_NAMES, batchSize: src.batchSize, learningRate: run.learningRate };
  const out: Trained = { samples: [], loss: [], instrumentedMs: [], plainMs: [], findings: [], stoppedEarly: undefined };
  const { samples, loss } = out;
  const progress = new ProgressBatcher(
    (batchOfSamples) => emit({ type: 'progress', runId, samples: batchOfSamples }),
    () => {
      out.findings = [
        ...findingsFor({ ...findingsInput, samples, loss }, thresholds, log),
        ...landscapeFindings(layers, landscape?.report()),
      ];
      emit({ type: 'findings', runId, findings: out.findings });
    },
  );
  let batch = run.firstBatch;
  for (let step = 0; step < run.steps; step++) {
    if (signal.aborted) {
      out.stoppedEarly = 'cancelled';
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
        out.instrumentedMs.push(stepMs);
        loss.push(value);
        const sample = { step, loss: value, stepMs, values };
        samples.push(sample);
        progress.add(sample);
      } else {
        loss.push(plainStep(ctx, batch));
        out.plainMs.push(performance.now() - t0);
      }
      probing?.after(() => totalLoss(ctx, batch));
    } catch (e) {
      throw e instanceof StepError ? stepFailure(e, probes, loaded, options.file, step) : e;
    } finally {
      if (src.transient) tf.dispose([...batch.xs, ...batch.ys]);
    }
    if (!Number.isFinite(loss[loss.length - 1])) {
      out.stoppedEarly = `non-finite loss at step ${step}`;
      break;
    }
    // Let the cancel request (and the host's other messages) in between steps.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  progress.flush(true);
  return out;
}

/** Releases what the run owns: the model's layer hooks, the landscape probe, the data, the model and its optimizer, the scope. */
function tearDown(owned: Owned): void {
  owned.instrumenter?.restore();
  owned.landscape?.dispose();
  owned.source?.dispose();
  try {
    owned.model?.dispose();
  } catch {
    /* already disposed by the user's code; endRunScope sweeps what is left */
  }
  try {
    owned.optimizer?.dispose();
  } catch {
    /* the model owned and disposed it already */
  }
  endRunScope(owned.variablesBefore);
}

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
