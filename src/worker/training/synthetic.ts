/**
 * Made-up training data for models that bring none: one tensor per model input — N(0, 1) floats, or
 * integer ids below `inputDim` for an input feeding an Embedding, with open sequence lengths set to
 * SEQUENCE_LENGTH and open image sizes to IMAGE_SIZE — and one target per output in the form its compiled
 * loss expects (./targets; README "What is synthesised"). Loss curves on such data show whether the network trains at all (memorizing a
 * few batches), which is what the layer statistics need.
 */
import * as tf from '@tensorflow/tfjs';
import { UserCodeError } from '../../userCode/errors';
import { makeTarget, targetKinds } from './targets';

export interface Batch {
  xs: tf.Tensor[];
  ys: tf.Tensor[];
}

/** How many distinct synthetic batches a run cycles through. */
export const SYNTHETIC_BATCHES = 4;

/** Time steps used for a sequence dimension the model leaves open (`inputShape: [null, features]`). */
export const SEQUENCE_LENGTH = 16;
/** Height and width used for open spatial dimensions of a convolutional model (`inputShape: [null, null, 3]`). */
export const IMAGE_SIZE = 32;

const SEQUENCE_LAYERS = new Set([
  'LSTM',
  'GRU',
  'SimpleRNN',
  'RNN',
  'Bidirectional',
  'ConvLSTM2D',
  'Embedding',
  'Conv1D',
  'TimeDistributed',
  'GlobalAveragePooling1D',
  'GlobalMaxPooling1D',
]);

/** What an open dimension of an input becomes: sequences for recurrent models, images for 2-D convolutional ones. */
interface OpenDims {
  sequence: boolean;
  spatial: boolean;
}

function openDimsOf(model: tf.LayersModel): OpenDims {
  const classes = model.layers.map((l) => l.getClassName());
  return { sequence: classes.some((c) => SEQUENCE_LAYERS.has(c)), spatial: classes.some((c) => /2D$/.test(c)) };
}

function concreteShape(shape: (number | null)[], batchSize: number, what: string, file: string, open: OpenDims): number[] {
  return shape.map((d, i) => {
    if (i === 0) return batchSize;
    if (d == null && i === 1 && open.sequence) return SEQUENCE_LENGTH;
    if (d == null && open.spatial && i < shape.length - 1) return IMAGE_SIZE;
    if (d == null) {
      throw new UserCodeError(
        'shape',
        `${what} has an unknown dimension ${i} (shape [${shape.map(String).join(', ')}]); ` +
          'NormScope cannot make up data for it. Give the dimension a size, or export normscope.data.',
        { file },
      );
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
  const open = openDimsOf(model);
  const kinds = targetKinds(model);
  return tf.tidy(() => {
    const xs = model.inputs.map((input, i) => {
      const shape = concreteShape(input.shape, batchSize, `model input ${i} ('${input.name}')`, file, open);
      const vocabulary = embeddingInputDim(model, input);
      return vocabulary ? tf.randomUniform(shape, 0, vocabulary, 'int32', seed + i) : tf.randomNormal(shape, 0, 1, 'float32', seed + i);
    });
    // Outputs with open dimensions take the shape a forward pass on these inputs gives.
    const outputsOpen = model.outputs.some((o) => o.shape.slice(1).some((d) => d == null));
    const predicted = outputsOpen
      ? ([] as tf.Tensor[]).concat(model.predict(xs.length === 1 ? xs[0] : xs) as tf.Tensor | tf.Tensor[]).map((t) => t.shape)
      : [];
    const ys = model.outputs.map((output, i) => {
      const shape = outputsOpen ? predicted[i] : concreteShape(output.shape, batchSize, `model output ${i} ('${output.name}')`, file, open);
      return makeTarget(kinds[i], shape, seed + 1000 + i);
    });
    return { xs, ys };
  });
}

export function syntheticBatches(model: tf.LayersModel, batchSize: number, seed: number, file: string): Batch[] {
  return Array.from({ length: SYNTHETIC_BATCHES }, (_, i) => makeBatch(model, batchSize, seed * 7919 + i * 104729, file));
}
