/**
 * Measures the training a script does. Every model the script builds is listed as it is created;
 * at the first training step the leaf layers of all of them (nested models flattened, names made
 * unique across models) become the run's layer table. Each batch of fit/fitDataset/trainOnBatch runs
 * through the model's own train function (its data, loss, metrics, optimizer, batch size); on a
 * measured step the optimizer's `minimize` is swapped for `measuredMinimize` for that one call. A custom
 * loop's own `optimizer.minimize` is a step when its variables belong to listed layers.
 * After the step limit (or a non-finite loss, or a cancel) the model's `stopTraining_` is set, so
 * fit ends cleanly after the batch, and `onStop` tells the run.
 */
import * as tf from '@tensorflow/tfjs';
import { STAT_NAMES, type Finding, type LayerInfo, type SourceLocation, type StepSample, type WorkerEvent } from '../../protocol';
import { UserCodeError } from '../../userCode/errors';
import type { StoppedEarly } from '../../protocol';
import { ScriptStopped } from './environment';
import { detectorLog, findingsFor } from '../../diagnosis/findings';
import type { DetectorThresholds } from '../../diagnosis/detectors/thresholds';
import { Instrumenter } from '../instrument/hooks';
import { DeviceMeter, HostMeter, viewFor } from '../instrument/meters';
import { describeLayerList, type LayerProbe } from '../instrument/probes';
import { measuredMinimize, StepError } from '../instrument/step';
import type { StepRecording } from '../instrument/hooks';
import type { BundleSourceMap } from '../../userCode/sourceMap';
import { ProgressBatcher } from '../progress';
import { learningRateOf } from '../training/spec';
import { layerTable, layerVariables, leafLayers, trainableVariables } from './layerTable';
import type { MinimizeArgs } from './intercept';

type TrainFunction = (data: tf.Tensor[]) => tf.Scalar[];
/** tfjs internals a train function uses (engine/training.js). */
type ModelInternals = tf.LayersModel & { optimizer_: tf.Optimizer; stopTraining_: boolean };

export interface ScriptTrainingOptions {
  runId: string;
  file: string;
  /** null: until the script ends. */
  steps: number | null;
  samplingInterval: number;
  /** Overrides `samplingInterval`: which steps are measured (the benchmark alternates blocks). */
  measureStep?: (step: number) => boolean;
  thresholds: Partial<DetectorThresholds>;
  backendName: string;
  emit(event: WorkerEvent): void;
  sourceMap(): BundleSourceMap | null;
  creationStack(layer: object): string | undefined;
  /** Training stopped (limit, non-finite loss, cancel, a failed step): the run may end the script. */
  onStop(): void;
}

/** Why training stopped before the script ended. */
export type StopReason =
  Extract<StoppedEarly, 'cancelled' | `non-finite${string}`> | `stopped after ${number} steps (--steps)` | `training step ${number} failed`;

/** A non-finite loss ends a script's run early; the other reasons are the script's or the user's choice. */
export function isNonFiniteStop(reason: StopReason | null): reason is `non-finite loss at step ${number}` {
  return reason?.startsWith('non-finite') ?? false;
}

export class ScriptTraining {
  readonly samples: StepSample[] = [];
  readonly loss: number[] = [];
  readonly instrumentedMs: number[] = [];
  readonly plainMs: number[] = [];
  layers: LayerInfo[] = [];
  findings: Finding[] = [];
  batchSize = 0;
  /** Why training stopped before the script ended, if it did. */
  stopReason: StopReason | null = null;
  /** A step that failed, as the user's error (the script sees tfjs's own error). */
  failure: UserCodeError | null = null;
  /** Steps `fit` announced, for the progress total of a run without a limit. */
  expectedSteps = 0;
  private readonly models: tf.LayersModel[] = [];
  private probes: LayerProbe[] | null = null;
  private instrumenter: Instrumenter | null = null;
  private measuredVariables = new Set<tf.Variable>();
  private learningRate: number | undefined;
  /** What a measured step needs, made once at the start. */
  private measure: Parameters<typeof measuredMinimize>[0] | null = null;
  private progress: ProgressBatcher | null = null;
  private modelOwner = new Map<tf.layers.Layer, string>();
  private warnedUnlisted = new WeakSet<tf.LayersModel>();

  constructor(private readonly options: ScriptTrainingOptions) {}

  modelCreated(model: tf.LayersModel): void {
    this.models.push(model);
  }

  /** Stops training: the run ends once the training call in flight has returned (cancel). */
  requestStop(reason: StopReason): void {
    this.stopReason ??= reason;
    this.options.onStop();
  }

  get started(): boolean {
    return this.probes !== null;
  }

  /** The train function `fit`/`fitDataset`/`trainOnBatch` of `model` calls once per batch. */
  wrap(model: tf.LayersModel, original: TrainFunction): TrainFunction {
    return (data) => {
      if (this.stopReason) {
        (model as ModelInternals).stopTraining_ = true;
        throw new ScriptStopped(this.stopReason);
      }
      if (!this.probes) this.start(model, data[0]?.shape[0] ?? 0);
      this.warnIfUnlisted(model);
      const step = this.loss.length;
      const t0 = performance.now();
      let out: tf.Scalar[];
      let values: number[] | null = null;
      let lossValue: number;
      try {
        if (this.measured(step)) {
          const optimizer = (model as ModelInternals).optimizer_;
          const own = Object.prototype.hasOwnProperty.call(optimizer, 'minimize');
          const minimize = optimizer.minimize;
          let measuredLoss = NaN;
          optimizer.minimize = ((f: () => tf.Scalar, _returnCost: boolean, variables: tf.Variable[]) => {
            const result = measuredMinimize(this.measure!, optimizer, f, variables);
            ({ values, lossValue: measuredLoss } = result);
            return result.loss;
          }) as typeof optimizer.minimize;
          try {
            out = original(data);
          } finally {
            if (own) optimizer.minimize = minimize;
            else delete (optimizer as Partial<tf.Optimizer>).minimize;
          }
          lossValue = measuredLoss;
        } else {
          out = original(data);
          lossValue = out[0].dataSync()[0];
        }
      } catch (e) {
        throw this.failed(e, step);
      }
      if (this.record(step, lossValue, values, performance.now() - t0)) (model as ModelInternals).stopTraining_ = true;
      return out;
    };
  }

  /**
   * A custom training loop's `optimizer.minimize(f, returnCost, varList)`: a step when some of the variables
   * belong to a listed model's layers (then those layers are measured), else left alone. After the stop
   * it throws (a loop cannot be paused: minimize is synchronous).
   */
  minimize(...[optimizer, f, returnCost, varList, plain]: MinimizeArgs): tf.Scalar | null {
    const variables = varList ?? trainableVariables();
    if (!this.probes && !layerVariables(this.models).some((v) => variables.includes(v))) return plain(returnCost);
    if (this.stopReason) throw new ScriptStopped(this.stopReason);
    if (!this.probes) this.start(null, 0);
    if (!variables.some((v) => this.measuredVariables.has(v))) return plain(returnCost);
    const step = this.loss.length;
    const t0 = performance.now();
    let loss: tf.Scalar;
    let values: number[] | null = null;
    let lossValue: number;
    try {
      if (this.measured(step)) {
        ({ loss, lossValue, values } = measuredMinimize(
          this.measure!,
          optimizer,
          f,
          variables,
          this.batchSize ? undefined : (rec) => this.batchSizeFrom(rec),
        ));
      } else {
        loss = plain(true)!;
        lossValue = loss.dataSync()[0];
      }
    } catch (e) {
      throw this.failed(e, step);
    }
    this.record(step, lossValue, values, performance.now() - t0);
    if (returnCost) return loss;
    loss.dispose();
    return null;
  }

  private measured(step: number): boolean {
    return this.options.measureStep ? this.options.measureStep(step) : step % this.options.samplingInterval === 0;
  }

  /** A failed step: kept as the run's error (the script sees tfjs's own error, returned). */
  private failed(e: unknown, step: number): unknown {
    this.failure ??= this.stepFailure(e, step);
    this.requestStop(`training step ${step} failed`);
    return e instanceof StepError ? e.cause : e;
  }

  /** Records a finished step; true when training must stop now (limit, non-finite loss). */
  private record(step: number, lossValue: number, values: number[] | null, stepMs: number): boolean {
    if (!this.progress) this.announce();
    this.loss.push(lossValue);
    if (values) {
      this.instrumentedMs.push(stepMs);
      const sample = { step, loss: lossValue, stepMs, values };
      this.samples.push(sample);
      this.progress!.add(sample);
    } else {
      this.plainMs.push(stepMs);
    }
    if (!Number.isFinite(lossValue)) this.stopReason ??= `non-finite loss at step ${step}`;
    else if (this.options.steps !== null && this.loss.length >= this.options.steps)
      this.stopReason ??= `stopped after ${this.loss.length} steps (--steps)`;
    if (this.stopReason) this.options.onStop();
    return this.stopReason !== null;
  }

  /** Sends what is pending and the final findings. */
  finish(): void {
    this.progress?.flush(true);
  }

  dispose(): void {
    this.instrumenter?.restore();
  }

  private sourceOf(layer: tf.layers.Layer): SourceLocation | null {
    const stack = this.options.creationStack(layer);
    return stack ? (this.options.sourceMap()?.creationSite(stack) ?? null) : null;
  }

  /** The layer table: every listed model's leaf layers (and the first trained model's, if it was not listed). */
  private start(model: tf.LayersModel | null, batchSize: number): void {
    const { layers, owner, nameOf } = layerTable(!model || this.models.includes(model) ? this.models : [...this.models, model]);
    this.modelOwner = owner;
    this.probes = describeLayerList(layers, (layer) => this.sourceOf(layer), nameOf);
    this.instrumenter = new Instrumenter(this.probes);
    const view = viewFor(this.options.backendName);
    this.measure = {
      probes: this.probes,
      instrumenter: this.instrumenter,
      meter: view ? () => new HostMeter(view) : () => new DeviceMeter(),
    };
    this.measuredVariables = new Set(this.probes.flatMap((p) => p.variables));
    this.layers = this.probes.map((p) => p.info);
    this.batchSize = batchSize;
    this.learningRate = model ? learningRateOf((model as ModelInternals).optimizer_) : undefined;
  }

  /** The layers event, once the first step told the batch size. */
  private announce(): void {
    const { runId, file, emit } = this.options;
    emit({
      type: 'layers',
      runId,
      file,
      layers: this.layers,
      statNames: STAT_NAMES,
      steps: this.options.steps ?? this.expectedSteps,
      batchSize: this.batchSize,
      syntheticData: false,
    });
    const findingsInput = { layers: this.layers, statNames: STAT_NAMES, batchSize: this.batchSize, learningRate: this.learningRate };
    const log = detectorLog(emit, runId);
    this.progress = new ProgressBatcher(
      (samples) => emit({ type: 'progress', runId, samples }),
      () => {
        this.findings = findingsFor({ ...findingsInput, samples: this.samples, loss: this.loss }, this.options.thresholds, log);
        emit({ type: 'findings', runId, findings: this.findings });
      },
    );
  }

  /** A custom loop's batch size: the leading dimension of the first measured output. */
  private batchSizeFrom(rec: StepRecording): void {
    for (const [index, record] of rec.layers) {
      const shape = this.layers[index].outputShape;
      if (!shape.length || Array.isArray(shape[0])) continue;
      const perSample = (shape as (number | null)[]).slice(1).reduce<number>((a, d) => a * (d ?? NaN), 1);
      if (Number.isFinite(perSample) && perSample > 0) {
        this.batchSize = Math.round(record.size / perSample);
        return;
      }
    }
  }

  /** A model built after training began is trained but its layers are not in the table: say so once. */
  private warnIfUnlisted(model: tf.LayersModel): void {
    if (this.warnedUnlisted.has(model)) return;
    this.warnedUnlisted.add(model);
    if (leafLayers(model).some((l) => !this.modelOwner.has(l))) {
      // Worker stderr reaches the host's log as a warning.
      process.stderr.write(`NormScope: model '${model.name}' was built after training began; its layers are not measured\n`);
    }
  }

  private stepFailure(e: unknown, step: number): UserCodeError {
    const layer = e instanceof StepError && e.layerIndex !== null ? this.probes?.[e.layerIndex]?.info : undefined;
    const cause = e instanceof StepError ? e.cause : e;
    const context = `training step ${step} failed${layer ? ` in layer '${layer.name}' (${layer.className})` : ''}`;
    return UserCodeError.from(
      cause,
      'training-failed',
      context,
      this.options.sourceMap(),
      this.options.file,
      layer?.source ?? { file: this.options.file },
    );
  }
}
