/**
 * The hooks on `tf.LayersModel.prototype` a script run needs: `fit`, `fitDataset` and
 * `trainOnBatch` are counted (a run is not over while one is in flight) and refused once training
 * was stopped (they return a promise that never settles, so the script goes no further);
 * `makeTrainFunction`, which all three call to get their per-batch function, hands that
 * function to the active session to measure; `Optimizer.prototype.minimize`, called by a custom
 * training loop (not from inside a train function), goes to the session too. A `Sequential` delegates all of them to its inner
 * `LayersModel`, so these hooks see every model. Installed once per process: a call from a script
 * that has already been ended must still be refused after its run is over.
 */
import * as tf from '@tensorflow/tfjs';

type TrainFunction = (data: tf.Tensor[]) => tf.Scalar[];
export type TrainingCall = 'fit' | 'fitDataset' | 'trainOnBatch';

export interface TrainingSession {
  /** Before a training call starts; false refuses it. */
  enter(model: tf.LayersModel, call: TrainingCall, args: unknown[]): boolean;
  /** After it returned or threw. */
  exit(model: tf.LayersModel): void;
  wrap(model: tf.LayersModel, original: TrainFunction): TrainFunction;
  /** `optimizer.minimize` called by the script itself (a custom training loop); `plain` is the original. */
  minimize(...args: MinimizeArgs): tf.Scalar | null;
}

/** What a training session's `minimize` is given: the script's call, and the optimizer's own minimize. */
export type MinimizeArgs = [
  optimizer: tf.Optimizer,
  f: () => tf.Scalar,
  returnCost: boolean,
  varList: tf.Variable[] | undefined,
  plain: (returnCost: boolean) => tf.Scalar | null,
];

let active: TrainingSession | null = null;
/** Models of scripts that were ended: they never train again. */
const ended = new WeakSet<object>();

/** A promise that never settles: what a refused training call returns. */
function parked(): Promise<never> {
  return new Promise<never>(() => {
    /* never settles */
  });
}
let installed = false;
let insideTrainFunction = false;

export function setTrainingSession(session: TrainingSession | null): void {
  install();
  active = session;
}

/** Every later training call on these models is refused. */
export function endModels(models: Iterable<tf.LayersModel>): void {
  for (const model of models) {
    ended.add(model);
    const inner = (model as unknown as { model?: object }).model;
    if (inner) ended.add(inner);
  }
}

function install(): void {
  if (installed) return;
  installed = true;
  const proto = tf.LayersModel.prototype as unknown as Record<string, (...args: unknown[]) => unknown>;
  for (const call of ['fit', 'fitDataset', 'trainOnBatch'] as const) {
    const original = proto[call];
    proto[call] = async function interceptedTraining(this: tf.LayersModel, ...args: unknown[]) {
      // Refused: the script waits here for ever (nothing rejects, nothing of it runs on, nothing keeps the process busy).
      if (ended.has(this)) return parked();
      const session = active;
      if (session && !session.enter(this, call, args)) return parked();
      try {
        return await original.apply(this, args);
      } finally {
        session?.exit(this);
      }
    };
  }
  const optimizerProto = tf.Optimizer.prototype as unknown as {
    minimize: (f: () => tf.Scalar, returnCost?: boolean, varList?: tf.Variable[]) => tf.Scalar | null;
  };
  const minimize = optimizerProto.minimize;
  optimizerProto.minimize = function interceptedMinimize(this: tf.Optimizer, f, returnCost = false, varList) {
    const plain = (cost: boolean) => minimize.call(this, f, cost, varList);
    return active && !insideTrainFunction ? active.minimize(this, f, returnCost, varList, plain) : plain(returnCost);
  };
  const makeTrainFunction = proto.makeTrainFunction;
  proto.makeTrainFunction = function interceptedMakeTrainFunction(this: tf.LayersModel) {
    const made = makeTrainFunction.call(this) as TrainFunction;
    // The model's own optimizer.minimize inside it is part of the batch, not a custom loop's step.
    const fn: TrainFunction = (data) => {
      insideTrainFunction = true;
      try {
        return made(data);
      } finally {
        insideTrainFunction = false;
      }
    };
    return active ? active.wrap(this, fn) : fn;
  };
}
