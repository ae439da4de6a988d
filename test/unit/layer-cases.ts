// One small model per tf.layers layer class, for ./kernels-layers.test.ts: a Dense in front (so the gradient
// flows through the layer under test into weights), the layer, then a Dense head. `covers` names the other
// classes a case trains (cells inside their RNN, the containers); the test checks that together the cases cover
// every Layer class tfjs registers, so a class added by a tfjs upgrade fails until it has a case.
import * as tf from '@tensorflow/tfjs';

type Sym = tf.SymbolicTensor;
export interface LayerCase {
  /** The tf.layers class name this case trains. */
  name: string;
  /** Input shape without the batch. */
  input: number[];
  /** Integer input in [0, ints) (token ids) instead of floats; no Dense in front then. */
  ints?: number;
  /** Skip the Dense in front (the layer needs the raw input, e.g. Masking's zeros). */
  raw?: boolean;
  /** Stock tfjs cannot train this layer on cpu either (the error it throws): both backends must fail alike. */
  stockCannotTrain?: RegExp;
  /** Zero the last time step of every other example (what Masking skips). */
  maskedSteps?: boolean;
  build: (x: Sym) => Sym;
  covers?: string[];
}

const L = tf.layers;
const apply = (layer: tf.layers.Layer, x: Sym | Sym[]) => layer.apply(x) as Sym;
/** Two different views of x, for the merge layers. */
const pair = (x: Sym): Sym[] => [apply(L.dense({ units: 4 }), x), apply(L.dense({ units: 4, activation: 'tanh' }), x)];
const imageIn = [6, 6, 2];

/**
 * Applies its layers eagerly, inside one layer with a given output shape. Resizing and RandomWidth compute wrong
 * symbolic shapes in tfjs 4.22 (rank 3 for a rank-4 input), so a functional model cannot connect them; on tensors
 * they work, which is how a user gets them to train.
 */
class Eagerly extends tf.layers.Layer {
  constructor(
    private readonly inner: tf.layers.Layer[],
    private readonly outShape: number[],
  ) {
    super({});
  }
  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor {
    let t = Array.isArray(inputs) ? inputs[0] : inputs;
    for (const layer of this.inner) t = layer.apply(t, kwargs) as tf.Tensor;
    return t;
  }
  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return [(inputShape as tf.Shape)[0], ...this.outShape];
  }
  override getClassName(): string {
    return 'Eagerly';
  }
}
const seqIn = [5, 3];

export const layerCases: LayerCase[] = [
  { name: 'Dense', input: [6], build: (x) => apply(L.dense({ units: 5, activation: 'relu' }), x) },
  { name: 'Activation', input: [6], build: (x) => apply(L.activation({ activation: 'tanh' }), x) },
  { name: 'ELU', input: [6], build: (x) => apply(L.elu(), x) },
  { name: 'LeakyReLU', input: [6], build: (x) => apply(L.leakyReLU({ alpha: 0.2 }), x) },
  { name: 'PReLU', input: [6], build: (x) => apply(L.prelu({ alphaInitializer: 'glorotUniform' }), x) },
  { name: 'ReLU', input: [6], build: (x) => apply(L.reLU({ maxValue: 0.5 }), x) },
  { name: 'Softmax', input: [6], build: (x) => apply(L.softmax(), x) },
  {
    name: 'ThresholdedReLU',
    input: [6],
    stockCannotTrain: /gradient function not found for Greater/,
    build: (x) => apply(L.thresholdedReLU({ theta: 0.1 }), x),
  },
  { name: 'Dropout', input: [6], build: (x) => apply(L.dropout({ rate: 0.3 }), x) },
  { name: 'AlphaDropout', input: [6], build: (x) => apply(L.alphaDropout({ rate: 0.3 }), x) },
  { name: 'GaussianDropout', input: [6], build: (x) => apply(L.gaussianDropout({ rate: 0.3 }), x) },
  { name: 'GaussianNoise', input: [6], build: (x) => apply(L.gaussianNoise({ stddev: 0.2 }), x) },
  { name: 'SpatialDropout1D', input: seqIn, build: (x) => apply(L.spatialDropout1d({ rate: 0.3 }), x) },
  { name: 'BatchNormalization', input: imageIn, build: (x) => apply(L.batchNormalization(), x) },
  { name: 'LayerNormalization', input: seqIn, build: (x) => apply(L.layerNormalization(), x) },
  { name: 'Rescaling', input: [6], build: (x) => apply(L.rescaling({ scale: 0.5, offset: 0.1 }), x) },
  { name: 'Flatten', input: imageIn, build: (x) => apply(L.flatten(), x) },
  { name: 'Reshape', input: [6], build: (x) => apply(L.reshape({ targetShape: [3, 2] }), x) },
  { name: 'Permute', input: seqIn, build: (x) => apply(L.permute({ dims: [2, 1] }), x) },
  { name: 'RepeatVector', input: [6], build: (x) => apply(L.repeatVector({ n: 3 }), x) },
  { name: 'Embedding', input: [5], ints: 7, build: (x) => apply(L.embedding({ inputDim: 7, outputDim: 4 }), x) },
  {
    name: 'CategoryEncoding',
    input: [3],
    ints: 5,
    // CategoryEncoding overwrites its input's symbolic shape (tfjs 4.22), so it must not be the model's input.
    build: (x) => apply(L.categoryEncoding({ numTokens: 5, outputMode: 'multiHot' }), apply(L.reshape({ targetShape: [3] }), x)),
  },
  {
    name: 'Masking',
    input: seqIn,
    raw: true,
    maskedSteps: true,
    build: (x) => apply(L.lstm({ units: 4, returnSequences: true }), apply(L.masking({ maskValue: 0 }), x)),
    covers: ['LSTM'],
  },
  { name: 'Conv1D', input: [8, 3], build: (x) => apply(L.conv1d({ filters: 4, kernelSize: 3, strides: 2, padding: 'same' }), x) },
  { name: 'Conv2D', input: imageIn, build: (x) => apply(L.conv2d({ filters: 3, kernelSize: 3, strides: 2, padding: 'same' }), x) },
  {
    name: 'Conv2DTranspose',
    input: [4, 4, 2],
    build: (x) => apply(L.conv2dTranspose({ filters: 3, kernelSize: 3, strides: 2, padding: 'same' }), x),
  },
  { name: 'Conv3D', input: [4, 4, 4, 2], build: (x) => apply(L.conv3d({ filters: 3, kernelSize: 2, padding: 'same' }), x) },
  {
    name: 'Conv3DTranspose',
    input: [3, 3, 3, 2],
    stockCannotTrain: /gradient function not found for Conv3DBackpropInputV2/,
    build: (x) => apply(L.conv3dTranspose({ filters: 2, kernelSize: 2, strides: 2 }), x),
  },
  { name: 'SeparableConv2D', input: imageIn, build: (x) => apply(L.separableConv2d({ filters: 3, kernelSize: 3, depthMultiplier: 2 }), x) },
  { name: 'DepthwiseConv2D', input: imageIn, build: (x) => apply(L.depthwiseConv2d({ kernelSize: 3, strides: 2, padding: 'same' }), x) },
  {
    name: 'Cropping2D',
    input: imageIn,
    build: (x) =>
      apply(
        L.cropping2D({
          cropping: [
            [1, 0],
            [0, 2],
          ],
        }),
        x,
      ),
  },
  { name: 'ZeroPadding2D', input: imageIn, build: (x) => apply(L.zeroPadding2d({ padding: [1, 2] }), x) },
  { name: 'UpSampling2D', input: [3, 3, 2], build: (x) => apply(L.upSampling2d({ size: [2, 2] }), x) },
  {
    name: 'CenterCrop',
    input: imageIn,
    stockCannotTrain: /gradient function not found for CropAndResize/,
    build: (x) => apply(L.centerCrop({ height: 4, width: 3 }), x),
  },
  { name: 'Resizing', input: imageIn, build: (x) => apply(new Eagerly([L.resizing({ height: 4, width: 8 })], [4, 8, 2]), x) },
  {
    name: 'RandomWidth',
    input: imageIn,
    build: (x) => apply(new Eagerly([L.randomWidth({ factor: 0.5 }), L.globalAveragePooling2d({})], [2]), x),
  },
  { name: 'AveragePooling1D', input: [8, 3], build: (x) => apply(L.averagePooling1d({ poolSize: 2 }), x) },
  { name: 'AveragePooling2D', input: imageIn, build: (x) => apply(L.averagePooling2d({ poolSize: 3, strides: 2, padding: 'same' }), x) },
  { name: 'AveragePooling3D', input: [4, 4, 4, 2], build: (x) => apply(L.averagePooling3d({ poolSize: 2 }), x) },
  { name: 'MaxPooling1D', input: [8, 3], build: (x) => apply(L.maxPooling1d({ poolSize: 2 }), x) },
  { name: 'MaxPooling2D', input: imageIn, build: (x) => apply(L.maxPooling2d({ poolSize: 2 }), x) },
  { name: 'MaxPooling3D', input: [4, 4, 4, 2], build: (x) => apply(L.maxPooling3d({ poolSize: 2 }), x) },
  { name: 'GlobalAveragePooling1D', input: seqIn, build: (x) => apply(L.globalAveragePooling1d(), x) },
  { name: 'GlobalAveragePooling2D', input: imageIn, build: (x) => apply(L.globalAveragePooling2d({}), x) },
  { name: 'GlobalMaxPooling1D', input: seqIn, build: (x) => apply(L.globalMaxPooling1d(), x) },
  { name: 'GlobalMaxPooling2D', input: imageIn, build: (x) => apply(L.globalMaxPooling2d({}), x) },
  { name: 'SimpleRNN', input: seqIn, build: (x) => apply(L.simpleRNN({ units: 4, returnSequences: true }), x) },
  { name: 'GRU', input: seqIn, build: (x) => apply(L.gru({ units: 4 }), x) },
  { name: 'LSTM', input: seqIn, build: (x) => apply(L.lstm({ units: 4 }), x) },
  {
    name: 'RNN',
    input: seqIn,
    build: (x) =>
      apply(
        L.rnn({ cell: L.stackedRNNCells({ cells: [L.simpleRNNCell({ units: 3 }), L.gruCell({ units: 3 }), L.lstmCell({ units: 3 })] }) }),
        x,
      ),
    covers: ['StackedRNNCells', 'SimpleRNNCell', 'GRUCell', 'LSTMCell'],
  },
  {
    name: 'Bidirectional',
    input: seqIn,
    build: (x) => apply(L.bidirectional({ layer: L.gru({ units: 3, returnSequences: true }) as tf.RNN, mergeMode: 'concat' }), x),
  },
  { name: 'TimeDistributed', input: seqIn, build: (x) => apply(L.timeDistributed({ layer: L.dense({ units: 2 }) }), x) },
  {
    name: 'ConvLSTM2D',
    input: [3, 4, 4, 2],
    raw: true,
    build: (x) => apply(L.convLstm2d({ filters: 2, kernelSize: 3, padding: 'same' }), x),
    covers: ['ConvLSTM2DCell'],
  },
  { name: 'Concatenate', input: [6], build: (x) => apply(L.concatenate(), pair(x)) },
  { name: 'Add', input: [6], build: (x) => apply(L.add(), pair(x)) },
  { name: 'Multiply', input: [6], build: (x) => apply(L.multiply(), pair(x)) },
  { name: 'Average', input: [6], build: (x) => apply(L.average(), pair(x)) },
  { name: 'Maximum', input: [6], build: (x) => apply(L.maximum(), pair(x)) },
  { name: 'Minimum', input: [6], build: (x) => apply(L.minimum(), pair(x)) },
  { name: 'Dot', input: seqIn, build: (x) => apply(L.dot({ axes: -1 }), pair(x)) },
  {
    name: 'Sequential',
    input: [6],
    build: (x) => apply(tf.sequential({ layers: [L.dense({ inputShape: [6], units: 4 }), L.dense({ units: 3 })] }), x),
  },
  {
    name: 'Functional',
    input: [6],
    build: (x) => {
      const inner = tf.input({ shape: [6] });
      return apply(tf.model({ inputs: inner, outputs: apply(L.dense({ units: 3 }), inner) }), x);
    },
    covers: ['Model', 'InputLayer'],
  },
];

/** The Layer classes tfjs registers for deserialization (all of tf.layers, the containers and the cells). */
export function registeredLayerClasses(): string[] {
  const map = (tf.serialization.SerializationMap.getMap() as unknown as { classNameMap: Record<string, [unknown, unknown]> }).classNameMap;
  return Object.keys(map)
    .filter((name) => {
      const cls = map[name][0] as { prototype?: unknown };
      return cls?.prototype instanceof (tf.layers.Layer as unknown as new () => unknown);
    })
    .sort();
}
