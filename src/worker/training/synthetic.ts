/**
 * Made-up training data for models that bring none: one tensor per model input — N(0, 1) floats, or
 * integer ids below `inputDim` for an input feeding an Embedding, with unknown sequence lengths set to
 * SEQUENCE_LENGTH — and one target per output in the form its compiled loss expects (./targets; README
 * "What is synthesised"). Loss curves on such data show whether the network trains at all (memorizing a
 * few batches), which is what the layer statistics need.
 */
import * as tf from '@tensorflow/tfjs';
import { UserCodeError } from '../errors';
import { makeTarget, targetKinds } from './targets';

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

/** Time steps used for a sequence dimension the model leaves open (`inputShape: [null, features]`). */
export const SEQUENCE_LENGTH = 16;

const SEQUENCE_LAYERS = new Set(['LSTM', 'GRU', 'SimpleRNN', 'RNN', 'Bidirectional', 'ConvLSTM2D', 'Embedding', 'Conv1D', 'TimeDistributed', 'GlobalAveragePooling1D', 'GlobalMaxPooling1D']);

function concreteShape(shape: (number | null)[], batchSize: number, what: string, file: string, sequential: boolean): number[] {
  return shape.map((d, i) => {
    if (i === 0) return batchSize;
    if (d == null && i === 1 && sequential) return SEQUENCE_LENGTH;
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
  const sequential = model.layers.some((l) => SEQUENCE_LAYERS.has(l.getClassName()));
  const kinds = targetKinds(model);
  return tf.tidy(() => {
    const xs = model.inputs.map((input, i) => {
      const shape = concreteShape(input.shape, batchSize, `model input ${i} ('${input.name}')`, file, sequential);
      const vocabulary = embeddingInputDim(model, input);
      return vocabulary ? tf.randomUniform(shape, 0, vocabulary, 'int32', seed + i) : tf.randomNormal(shape, 0, 1, 'float32', seed + i);
    });
    const ys = model.outputs.map((output, i) => {
      const shape = concreteShape(output.shape, batchSize, `model output ${i} ('${output.name}')`, file, sequential);
      return makeTarget(kinds[i], shape, seed + 1000 + i);
    });
    return { xs, ys };
  });
}

export function syntheticBatches(model: tf.LayersModel, batchSize: number, seed: number, file: string): Batch[] {
  return Array.from({ length: SYNTHETIC_BATCHES }, (_, i) => makeBatch(model, batchSize, seed * 7919 + i * 104729, file));
}
