/**
 * The optional `normscope` export of a model module, and everything a run needs to train:
 * data, batch size, steps, optimizer and loss.
 *
 * ```ts
 * export const normscope = {
 *   data: () => ({ xs, ys }),   // tensors (sliced into batches) or a tf.data.Dataset of {xs, ys} batches
 *   batchSize: 32,              // wins over the batchSize setting
 *   steps: 100,                 // wins over the steps setting
 *   optimizer: 'adam',          // name or tf.train.* instance; default: the compiled one, else Adam(1e-3)
 *   loss: 'categoricalCrossentropy', // name or function; default: the compiled one, else fits the output
 * };
 * ```
 * Without `data`, batches are synthesized (./synthetic) and the report says `syntheticData: true`.
 */
import * as tf from '@tensorflow/tfjs';
import { UserCodeError } from '../../userCode/errors';
import { syntheticBatches, type Batch } from './synthetic';
import { outputKind } from './targets';

export interface TrainingSpec {
  data?: () => unknown;
  batchSize?: number;
  steps?: number;
  optimizer?: string | tf.Optimizer;
  loss?: string | ((yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor) | (string | ((yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor))[];
}

/** Checks the shape of the export so a typo gives a message, not a crash mid-run. */
export function validateSpec(raw: unknown, file: string): TrainingSpec {
  if (raw === undefined) return {};
  const bad = (what: string) => new UserCodeError('bad-spec', `the 'normscope' export ${what}`, { file });
  if (!raw || typeof raw !== 'object') throw bad('must be an object { data?, batchSize?, steps?, optimizer?, loss? }');
  const spec = raw as Record<string, unknown>;
  const known = ['data', 'batchSize', 'steps', 'optimizer', 'loss'];
  // `args` and `<functionName>: { args }` choose a builder function's arguments (../loader/builderCall).
  const isArgsEntry = (k: string) =>
    k === 'args' || (!!spec[k] && typeof spec[k] === 'object' && Object.keys(spec[k] as object).join() === 'args');
  const unknown = Object.keys(spec).filter((k) => !known.includes(k) && !isArgsEntry(k));
  if (unknown.length)
    throw bad(`has unknown key(s) ${unknown.join(', ')}; expected ${known.join(', ')}, args, or <functionName>: { args }`);
  if (spec.data !== undefined && typeof spec.data !== 'function')
    throw bad('data must be a function returning {xs, ys} or a tf.data.Dataset');
  for (const key of ['batchSize', 'steps'] as const) {
    const v = spec[key];
    if (v !== undefined && !(Number.isInteger(v) && (v as number) > 0)) throw bad(`${key} must be a positive integer, got ${String(v)}`);
  }
  if (spec.optimizer !== undefined && typeof spec.optimizer !== 'string' && !(spec.optimizer instanceof tf.Optimizer)) {
    throw bad("optimizer must be a name like 'adam' or a tf.train.* optimizer");
  }
  return spec as TrainingSpec;
}

/** The compiled inner model (a Sequential delegates compile and training to its inner model). */
export interface Trainable {
  optimizer: tf.Optimizer;
  /** False when compiled with an optimizer instance: model.dispose() then leaves it alive. */
  ownsOptimizer: boolean;
  lossFunctions: ((yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor)[];
  calculateLosses(): tf.Scalar[];
}

export function trainableOf(model: tf.LayersModel): Trainable {
  const inner = (model.getClassName() === 'Sequential' ? (model as unknown as { model: unknown }).model : model) as Trainable & {
    optimizer_?: tf.Optimizer;
    isOptimizerOwned?: boolean;
  };
  return {
    optimizer: inner.optimizer_ ?? inner.optimizer,
    ownsOptimizer: inner.isOptimizerOwned === true,
    lossFunctions: inner.lossFunctions,
    calculateLosses: () => inner.calculateLosses(),
  };
}

function defaultLoss(model: tf.LayersModel): string[] {
  return model.outputs.map((_, i) => {
    const kind = outputKind(model, i);
    return kind === 'softmax' ? 'categoricalCrossentropy' : kind === 'sigmoid' ? 'binaryCrossentropy' : 'meanSquaredError';
  });
}

/** Compiles the model unless it already is and the spec changes nothing. Returns what was chosen. */
export function ensureCompiled(model: tf.LayersModel, spec: TrainingSpec): { optimizerNote: string } {
  const inner = (
    model.getClassName() === 'Sequential'
      ? (model as unknown as { model?: { lossFunctions?: unknown; optimizer_?: tf.Optimizer } }).model
      : model
  ) as { lossFunctions?: unknown; optimizer_?: tf.Optimizer; loss?: unknown } | undefined;
  const compiled = inner?.lossFunctions != null && inner.optimizer_ != null;
  if (compiled && spec.optimizer === undefined && spec.loss === undefined)
    return { optimizerNote: "the model's compiled optimizer and loss" };
  const optimizer = spec.optimizer ?? (compiled ? inner!.optimizer_! : tf.train.adam(1e-3));
  const loss = spec.loss ?? (compiled ? (model as unknown as { loss: string | string[] }).loss : defaultLoss(model));
  model.compile({ optimizer, loss: loss as string | string[] });
  return { optimizerNote: spec.optimizer !== undefined || compiled ? 'the given optimizer' : 'Adam(1e-3) (model was not compiled)' };
}

export function learningRateOf(optimizer: tf.Optimizer): number | undefined {
  const lr = (optimizer as unknown as { learningRate?: unknown }).learningRate;
  return typeof lr === 'number' ? lr : undefined;
}

export interface BatchSource {
  batchSize: number;
  synthetic: boolean;
  /** True when every `next()` makes new tensors that the caller disposes after the step. */
  transient: boolean;
  next(): Promise<Batch>;
  dispose(): void;
}

function asTensorList(value: unknown, what: string, file: string): tf.Tensor[] {
  const list = Array.isArray(value) ? value : [value];
  if (!list.length || !list.every((t) => t instanceof tf.Tensor)) {
    throw new UserCodeError('bad-spec', `normscope.data() must give ${what} as a tf.Tensor or an array of them`, { file });
  }
  return list as tf.Tensor[];
}

/** Batches for the run: from `normscope.data`, else synthesized. */
export async function batchSource(
  model: tf.LayersModel,
  spec: TrainingSpec,
  requestedBatch: number,
  seed: number,
  file: string,
): Promise<BatchSource> {
  const batchSize = spec.batchSize ?? requestedBatch;
  if (!spec.data) {
    const batches = syntheticBatches(model, batchSize, seed, file);
    let i = 0;
    return {
      batchSize,
      synthetic: true,
      transient: false,
      next: async () => batches[i++ % batches.length],
      dispose: () => batches.forEach((b) => tf.dispose([...b.xs, ...b.ys])),
    };
  }
  const data = await spec.data();
  if (data instanceof tf.data.Dataset) return datasetSource(data as tf.data.Dataset<tf.TensorContainer>, file);
  const { xs: rawXs, ys: rawYs } = (data ?? {}) as { xs?: unknown; ys?: unknown };
  const xs = asTensorList(rawXs, 'xs', file);
  const ys = asTensorList(rawYs, 'ys', file);
  const total = xs[0].shape[0];
  const size = Math.min(batchSize, total);
  let offset = 0;
  return {
    batchSize: size,
    synthetic: false,
    transient: true,
    async next() {
      if (offset + size > total) offset = 0;
      const slice = (t: tf.Tensor) => t.slice(offset, size);
      const batch = { xs: xs.map(slice), ys: ys.map(slice) };
      offset += size;
      return batch;
    },
    dispose: () => tf.dispose([...xs, ...ys]),
  };
}

function datasetSource(dataset: tf.data.Dataset<tf.TensorContainer>, file: string): BatchSource {
  let iterator: Awaited<ReturnType<typeof dataset.iterator>> | null = null;
  const source: BatchSource = {
    batchSize: 0,
    synthetic: false,
    transient: true,
    async next() {
      iterator ??= await dataset.iterator();
      let item = await iterator.next();
      if (item.done) {
        iterator = await dataset.iterator();
        item = await iterator.next();
        if (item.done) throw new UserCodeError('bad-spec', 'normscope.data() returned an empty tf.data.Dataset', { file });
      }
      const element = (item.value ?? {}) as { xs?: unknown; ys?: unknown };
      const batch = { xs: asTensorList(element.xs, 'xs', file), ys: asTensorList(element.ys, 'ys', file) };
      source.batchSize = batch.xs[0].shape[0];
      return batch;
    },
    dispose() {
      /* transient: each batch is disposed by the engine after its step */
    },
  };
  return source;
}
