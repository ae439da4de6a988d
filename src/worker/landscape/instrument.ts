/**
 * The landscape instrument as the engine uses it: `before(step)` probes the landscape from the weights the
 * step starts at (./probe), the engine then takes its normal training step, and `after()` measures internal
 * covariate shift against the update that step made. Off unless `RunOptions.landscape` is set.
 */
import type * as tf from '@tensorflow/tfjs';
import { DEFAULT_STEP_SIZES, type LandscapeOptions, type LandscapeReport, type LandscapeSample } from '../../protocol/landscape';
import { UserCodeError } from '../../userCode/errors';
import type { BatchNormState } from '../instrument/meters';
import { StepError, type StepContext } from '../instrument/step';
import { summarize } from './formulas';
import { measureIcs, probeLandscape, Snapshot, type IcsLayer, type ProbeTarget } from './probe';

/** η when the optimizer exposes no numeric learning rate (a custom optimizer): tfjs's Adam default. */
export const FALLBACK_LEARNING_RATE = 1e-3;
const MAX_STEP_SIZES = 8;

/** Checks `RunOptions.landscape`; a bad value is a clear options error, not a crash mid-run. */
export function checkLandscapeOptions(options: LandscapeOptions): Required<LandscapeOptions> {
  const bad = (what: string) => new UserCodeError('bad-options', `landscape: ${what}`, null);
  if (!(Number.isInteger(options.every) && options.every > 0)) throw bad(`every must be a positive integer, got ${options.every}`);
  const stepSizes = options.stepSizes ?? [...DEFAULT_STEP_SIZES];
  if (
    !Array.isArray(stepSizes) ||
    stepSizes.length === 0 ||
    stepSizes.length > MAX_STEP_SIZES ||
    !stepSizes.every((s) => typeof s === 'number' && Number.isFinite(s) && s > 0)
  ) {
    throw bad(`stepSizes must be 1–${MAX_STEP_SIZES} positive numbers, got ${JSON.stringify(options.stepSizes)}`);
  }
  return { every: options.every, stepSizes, ics: options.ics ?? true };
}

export interface LandscapeModel {
  model: tf.LayersModel;
  /** The optimizer's trainable variables. */
  variables: tf.Variable[];
  /** Weighted layers in forward order, for ICS. */
  layers: IcsLayer[];
  /** The BatchNorm layers' measuring state: their update counts go back with the moving statistics the probes restore. */
  batchNorms?: BatchNormState[];
}

export class LandscapeInstrument {
  private readonly options: Required<LandscapeOptions>;
  private readonly learningRate: number;
  private readonly note?: string;
  private readonly samples: LandscapeSample[] = [];
  private pending: { sample: LandscapeSample; gradient: Float32Array[]; before: Snapshot | null } | null = null;

  constructor(
    options: LandscapeOptions,
    private readonly target: LandscapeModel,
    learningRate: number | undefined,
  ) {
    this.options = checkLandscapeOptions(options);
    this.learningRate =
      learningRate !== undefined && Number.isFinite(learningRate) && learningRate > 0 ? learningRate : FALLBACK_LEARNING_RATE;
    if (this.learningRate !== learningRate)
      this.note = `the optimizer has no numeric learning rate; η = ${FALLBACK_LEARNING_RATE} was used`;
  }

  due(step: number): boolean {
    return step % this.options.every === 0;
  }

  private probeTarget(loss: () => tf.Scalar): ProbeTarget {
    return { loss, variables: this.target.variables, state: this.target.model.weights.map((w) => w.read() as tf.Variable) };
  }

  /** Probes from the current weights (restored exactly afterwards). Call before the step's update. */
  before(step: number, loss: () => tf.Scalar): void {
    this.discardPending();
    try {
      this.probe(step, loss);
    } catch (e) {
      throw new StepError(e, null);
    }
  }

  /**
   * Runs probing passes: their training-mode forwards update BatchNorm's moving statistics, which the probe restores,
   * and count as updates (../instrument/hooks), which go back here, so the run's warm-up is measured as without them.
   */
  private unseen<T>(passes: () => T): T {
    const batchNorms = this.target.batchNorms ?? [];
    const counts = batchNorms.map((bn) => bn.updates);
    try {
      return passes();
    } finally {
      batchNorms.forEach((bn, i) => (bn.updates = counts[i]));
    }
  }

  private probe(step: number, loss: () => tf.Scalar): void {
    const target = this.probeTarget(loss);
    const { sample, gradient } = this.unseen(() => probeLandscape(target, step, this.learningRate, this.options.stepSizes));
    this.samples.push(sample);
    // The step's starting values, kept by reference (no copy) for ICS after the update.
    this.pending = { sample, gradient, before: this.options.ics ? new Snapshot(target.variables) : null };
  }

  /** ICS of every weighted layer against the update just made. Call after the step, with the same batch. */
  after(loss: () => tf.Scalar): void {
    const pending = this.pending;
    const before = pending?.before;
    if (!pending || !before) return this.discardPending();
    try {
      pending.sample.ics = this.unseen(() => measureIcs(this.probeTarget(loss), this.target.layers, before, pending.gradient));
    } catch (e) {
      throw new StepError(e, null);
    } finally {
      this.discardPending();
    }
  }

  private discardPending(): void {
    this.pending?.before?.dispose();
    this.pending = null;
  }

  report(): LandscapeReport {
    return {
      learningRate: this.learningRate,
      stepSizes: this.options.stepSizes,
      every: this.options.every,
      samples: this.samples,
      summary: summarize(this.samples),
      ...(this.note ? { note: this.note } : {}),
    };
  }

  dispose(): void {
    this.discardPending();
  }
}

/** The instrument for a run's step context: its variables, and its weighted layers for ICS. */
export function landscapeFor(options: LandscapeOptions, ctx: StepContext, learningRate: number | undefined): LandscapeInstrument {
  const layers = ctx.probes.filter((p) => p.variables.length > 0).map((p) => ({ index: p.info.index, variables: p.variables }));
  const batchNorms = ctx.probes.flatMap((p) => (p.batchNorm ? [p.batchNorm] : []));
  return new LandscapeInstrument(options, { model: ctx.model, variables: ctx.variables, layers, batchNorms }, learningRate);
}
