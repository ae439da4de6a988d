/**
 * One training step, measured or plain. Both compute the same loss the way `model.fit` does
 * (sum of the per-output losses, averaged, plus regularization penalties) with the model's own
 * optimizer; the measured step additionally records every layer (./hooks) and reads the stats
 * back in one transfer (./collect).
 */
import * as tf from '@tensorflow/tfjs';
import type { Trainable } from '../training/spec';
import type { Batch } from '../training/synthetic';
import { collectStep, type WeightMeasures } from './collect';
import type { Instrumenter, StepRecording } from './hooks';
import type { Meter } from './meters';
import type { LayerProbe } from './probes';
import { errorMessage } from '../../protocol';

export interface StepContext {
  model: tf.LayersModel;
  trainable: Trainable;
  variables: tf.Variable[];
  probes: LayerProbe[];
  instrumenter: Instrumenter;
  /** A fresh meter per step (./meters: host scan on cpu/wasm, device reductions elsewhere). */
  meter: () => Meter;
}

/** Thrown when a step fails, naming the layer that was running (forward) or differentiating (backward). */
export class StepError extends Error {
  constructor(
    override readonly cause: unknown,
    readonly layerIndex: number | null,
  ) {
    super(errorMessage(cause));
    this.name = 'StepError';
  }
}

/**
 * tfjs frees the tensors its gradient tape saved only when backprop completes; a throw in the
 * forward or backward pass leaves them (and the tape) behind. Free them so a failed run leaks nothing.
 */
function discardFailedTape(): void {
  const state = (tf.engine() as unknown as { state: { gradientDepth: number; activeTape: { saved?: tf.Tensor[] }[] | null } }).state;
  if (state.gradientDepth !== 0 || !state.activeTape) return;
  for (const node of state.activeTape) node.saved?.forEach((t) => t.dispose());
  state.activeTape = null;
}

/** The training loss of `batch` at the current weights, as `model.fit` computes it (training mode). */
export function totalLoss(ctx: StepContext, batch: Batch): tf.Scalar {
  const outputs = ctx.model.apply(batch.xs.length === 1 ? batch.xs[0] : batch.xs, { training: true }) as tf.Tensor | tf.Tensor[];
  const list = Array.isArray(outputs) ? outputs : [outputs];
  let total: tf.Tensor | null = null;
  ctx.trainable.lossFunctions.forEach((lossFn, i) => {
    const perSample = lossFn(batch.ys[i], list[i]);
    total = total ? tf.add(total, perSample) : perSample;
  });
  let loss = tf.mean(total!) as tf.Scalar;
  for (const penalty of ctx.trainable.calculateLosses()) loss = tf.add(loss, penalty);
  return loss;
}

/** An uninstrumented step; returns the loss. */
export function plainStep(ctx: StepContext, batch: Batch): number {
  let loss: tf.Scalar | null = null;
  try {
    loss = ctx.trainable.optimizer.minimize(() => totalLoss(ctx, batch), true, ctx.variables);
    return loss!.dataSync()[0];
  } catch (e) {
    discardFailedTape();
    throw new StepError(e, null);
  } finally {
    loss?.dispose();
  }
}

/** A measured step; returns the loss and the `StepSample.values` row. */
export function instrumentedStep(ctx: StepContext, batch: Batch): { loss: number; values: number[] } {
  const { loss, lossValue, values } = measuredMinimize(ctx, ctx.trainable.optimizer, () => totalLoss(ctx, batch), ctx.variables);
  loss.dispose();
  return { loss: lossValue, values };
}

/**
 * `optimizer.minimize(f, true, variables)` measuring every layer (the forward and backward pass of
 * `f`, the weights around the update). Returns the loss tensor (the caller owns it, as with
 * `minimize`), its value and the `StepSample.values` row. Script runs (../script) put it in place
 * of the optimizer's own `minimize` inside a model's train function.
 */
export function measuredMinimize(
  ctx: Pick<StepContext, 'probes' | 'instrumenter' | 'meter'>,
  optimizer: tf.Optimizer,
  f: () => tf.Scalar,
  variables: tf.Variable[],
  inspect?: (rec: StepRecording) => void,
): { loss: tf.Scalar; lossValue: number; values: number[] } {
  const meter = ctx.meter();
  let rec: StepRecording | null = null;
  let loss: tf.Scalar | null = null;
  let grads: tf.NamedTensorMap = {};
  let finished = false;
  try {
    rec = ctx.instrumenter.begin(meter);
    try {
      ({ value: loss, grads } = optimizer.computeGradients(f, variables));
    } finally {
      ctx.instrumenter.end();
    }
    inspect?.(rec);
    // Weights and gradients before the update; a snapshot to measure the update against.
    const before = variables.map((v) => {
      const grad = grads[v.name];
      return { weightSquared: meter.squaredNorm(v), gradSquared: grad ? meter.squaredNorm(grad) : undefined, snapshot: meter.snapshot(v) };
    });
    optimizer.applyGradients(grads);
    const weights = new Map<tf.Variable, WeightMeasures>(
      variables.map((v, i) => [
        v,
        {
          weightSquared: before[i].weightSquared,
          gradSquared: before[i].gradSquared,
          updateSquared: meter.squaredDistance(v, before[i].snapshot),
        },
      ]),
    );
    const { loss: lossValue, values } = collectStep(ctx.probes, rec, weights, loss);
    finished = true;
    return { loss, lossValue, values };
  } catch (e) {
    discardFailedTape();
    throw new StepError(e, rec?.forwardLayer ?? rec?.backwardLayer ?? null);
  } finally {
    if (!finished) {
      meter.discard();
      loss?.dispose();
    }
    rec?.dispose();
    tf.dispose(Object.values(grads));
  }
}
