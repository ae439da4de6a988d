/**
 * Made-up training data for models that bring none: inputs drawn from N(0, 1) in the model's input
 * shapes, targets that fit each output's activation — softmax → one-hot classes, sigmoid → 0/1,
 * anything else → N(0, 1) regression targets. Loss curves on such data show whether the network
 * trains at all (memorizing a few batches), which is what the layer statistics need.
 */
import * as tf from '@tensorflow/tfjs';
import { UserCodeError } from '../errors';

export type OutputKind = 'softmax' | 'sigmoid' | 'linear';

export interface Batch {
  xs: tf.Tensor[];
  ys: tf.Tensor[];
}

/** How many distinct synthetic batches a run cycles through. */
export const SYNTHETIC_BATCHES = 4;

/** The activation that produces model output `index`, read from the layer that makes it. */
export function outputKind(model: tf.LayersModel, index: number): OutputKind {
  const layer = model.outputs[index].sourceLayer as tf.layers.Layer & { activation?: { getClassName(): string } };
  const name = layer.getClassName() === 'Softmax' ? 'softmax' : layer.activation?.getClassName?.().toLowerCase();
  return name === 'softmax' ? 'softmax' : name === 'sigmoid' ? 'sigmoid' : 'linear';
}

function concreteShape(shape: (number | null)[], batchSize: number, what: string, file: string): number[] {
  return shape.map((d, i) => {
    if (i === 0) return batchSize;
    if (d == null) {
      throw new UserCodeError('shape', `${what} has an unknown dimension ${i} (shape [${shape.map(String).join(', ')}]); `
        + 'NormScope cannot make up data for it. Give the dimension a size, or export normscope.data.', { file });
    }
    return d;
  });
}

/** Integer ids for an input that feeds an Embedding directly, floats otherwise. */
function embeddingInputDim(model: tf.LayersModel, input: tf.SymbolicTensor): number | null {
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'Embedding') continue;
    const inbound = layer.inboundNodes.flatMap((n) => n.inputTensors);
    if (inbound.includes(input)) {
      return (layer.getConfig().inputDim as number) ?? null;
    }
  }
  return null;
}

function makeBatch(model: tf.LayersModel, batchSize: number, seed: number, file: string): Batch {
  return tf.tidy(() => {
    const xs = model.inputs.map((input, i) => {
      const shape = concreteShape(input.shape, batchSize, `model input ${i} ('${input.name}')`, file);
      const vocabulary = embeddingInputDim(model, input);
      return vocabulary ? tf.randomUniform(shape, 0, vocabulary, 'int32', seed + i) : tf.randomNormal(shape, 0, 1, 'float32', seed + i);
    });
    const ys = model.outputs.map((output, i) => {
      const shape = concreteShape(output.shape, batchSize, `model output ${i} ('${output.name}')`, file);
      const targetSeed = seed + 1000 + i;
      switch (outputKind(model, i)) {
        case 'softmax': {
          const classes = shape[shape.length - 1];
          return tf.oneHot(tf.randomUniform(shape.slice(0, -1), 0, classes, 'int32', targetSeed), classes).toFloat();
        }
        case 'sigmoid':
          return tf.cast(tf.greater(tf.randomUniform(shape, 0, 1, 'float32', targetSeed), 0.5), 'float32');
        default:
          return tf.randomNormal(shape, 0, 1, 'float32', targetSeed);
      }
    });
    return { xs, ys };
  });
}

export function syntheticBatches(model: tf.LayersModel, batchSize: number, seed: number, file: string): Batch[] {
  return Array.from({ length: SYNTHETIC_BATCHES }, (_, i) => makeBatch(model, batchSize, seed * 7919 + i * 104729, file));
}
