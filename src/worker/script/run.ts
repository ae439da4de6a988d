/**
 * `normscope run <script>`: the user's own training script runs in this process (bundled like a
 * model file, tfjs aliased to ours) with its arguments, and every model it trains is measured on
 * the script's real data (./training). The run ends when the script has finished (nothing left
 * to wait for), or when training was stopped (step limit, non-finite loss, cancel) and the training
 * call in flight has returned; then the script is ended (./environment `end`, later training calls
 * refused by ./intercept) and the report is built from what was measured.
 */
import * as path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import type { BackendReport, RunOptions, RunReport, StoppedEarly, WorkerEvent } from '../../protocol';
import { toRunError, UserCodeError } from '../../userCode/errors';
import { checkThresholds } from '../../diagnosis/findings';
import { loadUserModule } from '../loader/bundle';
import type { BundleSourceMap } from '../../userCode/sourceMap';
import { creationStackOf, onModelCreated } from '../loader/tfShim';
import { buildReport } from '../../diagnosis/report';
import { seededRandom } from '../training/seed';
import { ScriptEnvironment } from './environment';
import { endModels, setTrainingSession, type TrainingCall } from './intercept';
import { isNonFiniteStop, ScriptTraining } from './training';

/** How often the run looks whether the script has finished. */
const IDLE_POLL_MS = 20;
/** After training stopped: how long the script may go on (evaluate, save, print) before it is ended. */
export const STOP_GRACE_MS = 2000;
/** After a cancel: how long a training call in flight may take to reach its batch boundary. */
const CANCEL_GRACE_MS = 400;

type Outcome = { kind: 'finished' } | { kind: 'exit'; code: number } | { kind: 'error'; error: unknown } | { kind: 'stopped' };

/** Steps a fit call will take, from its arguments (for the progress total of `--steps all`). */
function stepsOf(call: TrainingCall, args: unknown[]): number {
  if (call === 'trainOnBatch') return 1;
  const config = (call === 'fit' ? args[2] : args[1]) as
    { epochs?: number; batchSize?: number; validationSplit?: number; batchesPerEpoch?: number } | undefined;
  const epochs = config?.epochs ?? 1;
  if (call === 'fitDataset') return config?.batchesPerEpoch ? epochs * config.batchesPerEpoch : 0;
  const x = args[0] as tf.Tensor | tf.Tensor[];
  const samples = (Array.isArray(x) ? x[0] : x)?.shape?.[0] ?? 0;
  return epochs * Math.ceil((samples * (1 - (config?.validationSplit ?? 0))) / (config?.batchSize ?? 32));
}

/** What one script run is given: its options and backend, where its events go, its cancel signal and identity. */
export interface ScriptRun {
  options: RunOptions;
  backend: BackendReport;
  emit: (event: WorkerEvent) => void;
  signal: AbortSignal;
  runId: string;
  /** performance.now() when the run started (the report's total time). */
  started: number;
  /** Which steps are measured (the overhead bench: all or none); by default the sampling interval decides. */
  measureStep?: (step: number) => boolean;
}

/** What set-up made for one script run and tear-down ends. */
interface ScriptSession {
  file: string;
  base: string;
  training: ScriptTraining;
  env: ScriptEnvironment;
  /** Every model the script made, and those in a training call now. */
  models: Set<tf.LayersModel>;
  inTraining: Set<tf.LayersModel>;
  /** Training calls in flight (nested calls count each), and the bundle's source map once it compiled. */
  state: { inFlight: number; sourceMap: BundleSourceMap | null };
  /** How the script ended, first come first served: finished, exited, threw, or training stopped. */
  outcome: Promise<Outcome>;
  settle: (outcome: Outcome) => void;
  onAbort: () => void;
  /** The Math.random the script's seeded one replaces. */
  random: () => number;
  watch: { deadline: number; over: boolean };
}

export async function runScript(run: ScriptRun): Promise<RunReport> {
  const session = setUp(run);
  try {
    const result = await runUntilDone(session, run.signal);
    return reportOf(session, result, run);
  } finally {
    tearDown(session, run.signal);
  }
}

/** Hooks training (./intercept), model creation (../loader/tfShim), the script's environment, the cancel signal and Math.random. */
function setUp(run: ScriptRun): ScriptSession {
  const { options, signal } = run;
  const file = options.file;
  let settle!: (outcome: Outcome) => void;
  const outcome = new Promise<Outcome>((resolve) => {
    settle = resolve;
  });
  const state = { inFlight: 0, sourceMap: null as BundleSourceMap | null };
  const models = new Set<tf.LayersModel>();
  const inTraining = new Set<tf.LayersModel>();
  const training = new ScriptTraining({
    runId: run.runId,
    file,
    emit: run.emit,
    backendName: run.backend.name,
    steps: options.script?.untilDone ? null : options.steps,
    samplingInterval: options.samplingInterval,
    measureStep: run.measureStep,
    thresholds: checkThresholds(options.thresholds),
    sourceMap: () => state.sourceMap,
    creationStack: creationStackOf,
    onStop: () => {
      if (state.inFlight === 0) settle({ kind: 'stopped' });
    },
  });
  setTrainingSession({
    enter(model, call, args) {
      models.add(model);
      if (training.stopReason) return false;
      state.inFlight++;
      inTraining.add(model);
      training.expectedSteps += stepsOf(call, args);
      return true;
    },
    exit(model) {
      state.inFlight--;
      inTraining.delete(model);
      if (state.inFlight === 0 && training.stopReason) settle({ kind: 'stopped' });
    },
    wrap: (model, fn) => training.wrap(model, fn),
    minimize: (...args) => training.minimize(...args),
  });
  onModelCreated((model) => {
    models.add(model);
    training.modelCreated(model);
  });
  const env = new ScriptEnvironment(file, options.script?.args ?? [], {
    onError: (error) => settle({ kind: 'error', error }),
    onExit: (code) => settle({ kind: 'exit', code }),
  });
  const onAbort = () => {
    // fit/fitDataset in flight end after their current batch.
    for (const model of inTraining) (model as unknown as { stopTraining_: boolean }).stopTraining_ = true;
    training.requestStop('cancelled');
  };
  signal.addEventListener('abort', onAbort);
  const random = Math.random;
  Math.random = seededRandom(options.seed);
  const watch = { deadline: Infinity, over: false };
  return { file, base: path.basename(file), training, env, models, inTraining, state, outcome, settle, onAbort, random, watch };
}

/** Runs the script until it has finished, exited, thrown, or training stopped and the grace after it ran out. */
async function runUntilDone(session: ScriptSession, signal: AbortSignal): Promise<Outcome> {
  try {
    await loadUserModule(session.file, {
      scope: session.env.scope,
      asMain: true,
      onCompiled: (map) => {
        session.state.sourceMap = map;
      },
    });
  } catch (e) {
    // process.exit() while loading has already settled the outcome; anything else is the script's error.
    session.settle({ kind: 'error', error: e });
  }
  const idle = untilIdle(session.env, () => session.state.inFlight, session.watch);
  const result = await Promise.race([session.outcome, idle.then((): Outcome => ({ kind: 'finished' }))]);
  if (result.kind === 'stopped') {
    // Let the script finish what it does after training (evaluate, save, print) for a moment.
    session.watch.deadline = performance.now() + (signal.aborted ? CANCEL_GRACE_MS : STOP_GRACE_MS);
    await idle;
  }
  return result;
}

/** The report of what was measured, or the error that leaves nothing to report. */
function reportOf(session: ScriptSession, result: Outcome, run: ScriptRun): RunReport {
  const { training, file, base } = session;
  const failure = training.failure ?? failureOf(result, session.state.sourceMap, file, base);
  // After training, a failing script (e.g. model.save to a file:// URL, which needs tfjs-node) does not
  // cost the measurements: the report says where it failed.
  const failedAfter = failure && training.started && !training.failure ? toRunError(failure).message : undefined;
  if (failure && !failedAfter) throw failure;
  if (!training.started && run.signal.aborted)
    throw new UserCodeError('cancelled', `${base} was cancelled before it trained a model`, { file });
  if (!training.started) {
    throw new UserCodeError(
      'no-training',
      `${base} ${result.kind === 'exit' ? `exited (code ${result.code})` : 'finished'} without training a tf.LayersModel: ` +
        'NormScope measures the models a script trains with model.fit(), model.fitDataset(), model.trainOnBatch() or optimizer.minimize(). ' +
        'For a file that only builds a model, use `normscope check` (Check Normalization).',
      { file, line: 1, column: 1 },
    );
  }
  training.finish();
  const stoppedEarly: StoppedEarly | undefined = run.signal.aborted
    ? 'cancelled'
    : isNonFiniteStop(training.stopReason)
      ? training.stopReason
      : failedAfter
        ? `the script failed after training: ${failedAfter}`
        : undefined;
  return buildReport({
    file,
    backend: run.backend,
    steps: training.loss.length,
    batchSize: training.batchSize,
    syntheticData: false,
    loss: training.loss,
    layers: training.layers,
    samples: training.samples,
    findings: training.findings,
    instrumentedMs: training.instrumentedMs,
    plainMs: training.plainMs,
    totalMs: performance.now() - run.started,
    stoppedEarly,
    evalLoss: null,
  });
}

/**
 * Ends the script, whatever it is doing: its models never train again, its timers are cleared,
 * argv/cwd/exit are put back and its layers are unhooked; the abort listener and Math.random are put back.
 * (A script in its own thread could be terminated here instead.)
 */
function tearDown(session: ScriptSession, signal: AbortSignal): void {
  session.watch.over = true;
  Math.random = session.random;
  signal.removeEventListener('abort', session.onAbort);
  endModels(session.models);
  session.env.end();
  setTrainingSession(null);
  onModelCreated(null);
  session.training.dispose();
}

/** An error or a failing exit of the script as the run's error; null when the run has a report. */
function failureOf(result: Outcome, sourceMap: BundleSourceMap | null, file: string, base: string): UserCodeError | null {
  if (result.kind === 'error')
    return UserCodeError.from(result.error, 'script-threw', `${base} failed`, sourceMap, file, { file, line: 1, column: 1 });
  if (result.kind === 'exit' && result.code !== 0)
    return new UserCodeError('script-exit', `${base} called process.exit(${result.code})`, { file, line: 1, column: 1 });
  return null;
}

/**
 * Resolves once the script has nothing left to wait for (two looks in a row) and no training call is
 * in flight, or at `watch.deadline`; stops looking when `watch.over`. One loop, so the only timer of
 * ours pending while it looks is its own.
 */
function untilIdle(env: ScriptEnvironment, inFlight: () => number, watch: { deadline: number; over: boolean }): Promise<void> {
  return new Promise<void>((resolve) => {
    let idleLooks = 0;
    const look = () => {
      if (watch.over) return;
      idleLooks = inFlight() === 0 && !env.busy(1) ? idleLooks + 1 : 0;
      if (idleLooks >= 2 || performance.now() >= watch.deadline) resolve();
      else setTimeout(look, IDLE_POLL_MS);
    };
    setTimeout(look, IDLE_POLL_MS);
  });
}
