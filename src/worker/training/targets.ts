/**
 * Which synthetic targets fit an output: decided by the loss it is compiled with (a model compiled with
 * sparseCategoricalCrossentropy wants class ids, not one-hot rows), else by the output's activation.
 */
import * as tf from '@tensorflow/tfjs';

export type OutputKind = 'softmax' | 'sigmoid' | 'linear';

/** The activation that produces model output `index`, read from the layer that makes it. */
export function outputKind(model: tf.LayersModel, index: number): OutputKind {
  const layer = model.outputs[index].sourceLayer as tf.layers.Layer & { activation?: { getClassName(): string } };
  const name = layer.getClassName() === 'Softmax' ? 'softmax' : layer.activation?.getClassName?.().toLowerCase();
  return name === 'softmax' ? 'softmax' : name === 'sigmoid' ? 'sigmoid' : 'linear';
}

export type TargetKind = 'class-ids' | 'one-hot' | 'binary' | 'signs' | 'non-negative' | 'regression';

/** Loss name (any spelling tfjs accepts: camelCase, snake_case, abbreviations) → target kind. */
const BY_LOSS: Record<string, TargetKind> = {
  sparsecategoricalcrossentropy: 'class-ids',
  categoricalcrossentropy: 'one-hot',
  kullbackleiblerdivergence: 'one-hot',
  kld: 'one-hot',
  binarycrossentropy: 'binary',
  hinge: 'signs',
  squaredhinge: 'signs',
  categoricalhinge: 'one-hot',
  poisson: 'non-negative',
  meansquaredlogarithmicerror: 'non-negative',
  msle: 'non-negative',
  meansquarederror: 'regression',
  mse: 'regression',
  meanabsoluteerror: 'regression',
  mae: 'regression',
  meanabsolutepercentageerror: 'regression',
  mape: 'regression',
  logcosh: 'regression',
  cosineproximity: 'regression',
  cosine: 'regression',
};

export function targetKindOfLoss(loss: unknown): TargetKind | null {
  return typeof loss === 'string' ? (BY_LOSS[loss.replace(/_/g, '').toLowerCase()] ?? null) : null;
}

function byActivation(model: tf.LayersModel, index: number): TargetKind {
  const kind = outputKind(model, index);
  return kind === 'softmax' ? 'one-hot' : kind === 'sigmoid' ? 'binary' : 'regression';
}

/** The compiled loss of each output (a name, a function, or undefined when not compiled). */
function compiledLosses(model: tf.LayersModel): unknown[] {
  const loss = (model as unknown as { loss?: unknown }).loss;
  return model.outputs.map((_, i) => {
    if (Array.isArray(loss)) return loss[i];
    if (loss && typeof loss === 'object') return (loss as Record<string, unknown>)[model.outputNames[i]];
    return loss;
  });
}

/** One target kind per model output. */
export function targetKinds(model: tf.LayersModel): TargetKind[] {
  return compiledLosses(model).map((loss, i) => targetKindOfLoss(loss) ?? byActivation(model, i));
}

/** A target batch of `shape` (batch first, as the output) for `kind`. */
export function makeTarget(kind: TargetKind, shape: number[], seed: number): tf.Tensor {
  const classes = shape[shape.length - 1];
  switch (kind) {
    // One id per prediction row: the loss one-hot encodes the flattened ids against the output's last axis.
    case 'class-ids':
      return tf.floor(tf.randomUniform([...shape.slice(0, -1), 1], 0, classes, 'float32', seed));
    case 'one-hot':
      return tf.oneHot(tf.randomUniform(shape.slice(0, -1), 0, classes, 'int32', seed), classes).toFloat();
    case 'binary':
      return tf.cast(tf.greater(tf.randomUniform(shape, 0, 1, 'float32', seed), 0.5), 'float32');
    case 'signs':
      return tf.sub(tf.mul(tf.cast(tf.greater(tf.randomUniform(shape, 0, 1, 'float32', seed), 0.5), 'float32'), 2), 1);
    case 'non-negative':
      return tf.abs(tf.randomNormal(shape, 0, 1, 'float32', seed));
    default:
      return tf.randomNormal(shape, 0, 1, 'float32', seed);
  }
}
