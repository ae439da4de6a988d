/**
 * Names of TensorFlow.js layer factories (`tf.layers.<factory>`) and the Layer classes they create,
 * plus NormScope's own normalization layers. Pure data; no TypeScript AST here.
 */

/**
 * Factory → class for factories whose class name is not simply the capitalised factory name
 * (aliases such as `maxPool2d`, acronyms such as `lstm`). Canonical factories come first so the
 * reverse lookup picks them.
 */
const IRREGULAR_FACTORIES: Readonly<Record<string, string>> = {
  lstm: 'LSTM',
  lstmCell: 'LSTMCell',
  gru: 'GRU',
  gruCell: 'GRUCell',
  rnn: 'RNN',
  simpleRNN: 'SimpleRNN',
  simpleRNNCell: 'SimpleRNNCell',
  convLstm2d: 'ConvLSTM2D',
  convLstm2dCell: 'ConvLSTM2DCell',
  stackedRNNCells: 'StackedRNNCells',
  prelu: 'PReLU',
  elu: 'ELU',
  reLU: 'ReLU',
  leakyReLU: 'LeakyReLU',
  thresholdedReLU: 'ThresholdedReLU',
  input: 'InputLayer',
  cropping2D: 'Cropping2D',
  averagePooling1d: 'AveragePooling1D',
  averagePooling2d: 'AveragePooling2D',
  averagePooling3d: 'AveragePooling3D',
  avgPool1d: 'AveragePooling1D',
  avgPooling1d: 'AveragePooling1D',
  avgPool2d: 'AveragePooling2D',
  avgPooling2d: 'AveragePooling2D',
  avgPool3d: 'AveragePooling3D',
  avgPooling3d: 'AveragePooling3D',
  maxPooling1d: 'MaxPooling1D',
  maxPooling2d: 'MaxPooling2D',
  maxPooling3d: 'MaxPooling3D',
  maxPool1d: 'MaxPooling1D',
  maxPool2d: 'MaxPooling2D',
  globalMaxPooling1d: 'GlobalMaxPooling1D',
  globalMaxPooling2d: 'GlobalMaxPooling2D',
  globalMaxPool1d: 'GlobalMaxPooling1D',
  globalMaxPool2d: 'GlobalMaxPooling2D',
  rmsNormalization: 'RMSNormalization',
};

/** Every factory of `tf.layers` in tfjs-layers 4.x (exports_layers.d.ts), plus NormScope's norm layers. */
const KNOWN_FACTORIES = [
  'inputLayer',
  'input',
  'elu',
  'reLU',
  'leakyReLU',
  'prelu',
  'softmax',
  'thresholdedReLU',
  'conv1d',
  'conv2d',
  'conv2dTranspose',
  'conv3d',
  'conv3dTranspose',
  'separableConv2d',
  'cropping2D',
  'upSampling2d',
  'depthwiseConv2d',
  'activation',
  'dense',
  'dropout',
  'spatialDropout1d',
  'flatten',
  'repeatVector',
  'reshape',
  'permute',
  'embedding',
  'add',
  'average',
  'concatenate',
  'maximum',
  'minimum',
  'multiply',
  'dot',
  'batchNormalization',
  'layerNormalization',
  'zeroPadding2d',
  'averagePooling1d',
  'avgPool1d',
  'avgPooling1d',
  'averagePooling2d',
  'avgPool2d',
  'avgPooling2d',
  'averagePooling3d',
  'avgPool3d',
  'avgPooling3d',
  'globalAveragePooling1d',
  'globalAveragePooling2d',
  'globalMaxPooling1d',
  'globalMaxPooling2d',
  'globalMaxPool1d',
  'globalMaxPool2d',
  'maxPooling1d',
  'maxPooling2d',
  'maxPooling3d',
  'maxPool1d',
  'maxPool2d',
  'gru',
  'gruCell',
  'lstm',
  'lstmCell',
  'simpleRNN',
  'simpleRNNCell',
  'convLstm2d',
  'convLstm2dCell',
  'rnn',
  'stackedRNNCells',
  'bidirectional',
  'timeDistributed',
  'gaussianNoise',
  'gaussianDropout',
  'alphaDropout',
  'masking',
  'rescaling',
  'centerCrop',
  'resizing',
  'categoryEncoding',
  'randomWidth',
  ...['groupNormalization', 'rmsNormalization', 'instanceNormalization', 'weightNormalization'],
];

/** NormScope's own normalization layers (src/layers); recognised as factories under any object too. */
export const NORMSCOPE_NORM_FACTORIES: ReadonlySet<string> = new Set([
  'groupNormalization',
  'rmsNormalization',
  'instanceNormalization',
  'weightNormalization',
]);

/** Layer classes that normalise activations (LayerInfo.isNorm uses the same list). */
export const NORM_CLASSES: ReadonlySet<string> = new Set([
  'BatchNormalization',
  'LayerNormalization',
  'GroupNormalization',
  'RMSNormalization',
  'InstanceNormalization',
  'WeightNormalization',
]);

/** Recurrent layers: BatchNorm between or inside these mixes statistics across time steps. */
export const RECURRENT_CLASSES: ReadonlySet<string> = new Set([
  'LSTM',
  'GRU',
  'SimpleRNN',
  'RNN',
  'ConvLSTM2D',
  'LSTMCell',
  'GRUCell',
  'SimpleRNNCell',
  'Bidirectional',
]);

/** Convolutional layers whose output is a feature map (channels last). */
export const CONV_CLASSES: ReadonlySet<string> = new Set([
  'Conv1D',
  'Conv2D',
  'Conv3D',
  'Conv2DTranspose',
  'Conv3DTranspose',
  'SeparableConv2D',
  'DepthwiseConv2D',
  'ConvLSTM2D',
]);

/** Layers with a trainable kernel (counted by `missing-norm`). */
export const WEIGHT_CLASSES: ReadonlySet<string> = new Set(['Dense', ...CONV_CLASSES, 'LSTM', 'GRU', 'SimpleRNN', 'Embedding']);

/** `maxPooling2d` → `MaxPooling2D`, `batchNormalization` → `BatchNormalization`. */
export function classNameOfFactory(factory: string): string {
  const irregular = IRREGULAR_FACTORIES[factory];
  if (irregular) return irregular;
  return (factory[0].toUpperCase() + factory.slice(1)).replace(/(\d)d$/, '$1D');
}

const FACTORY_OF_CLASS = new Map<string, string>();
for (const factory of KNOWN_FACTORIES) {
  const cls = classNameOfFactory(factory);
  if (!FACTORY_OF_CLASS.has(cls)) FACTORY_OF_CLASS.set(cls, factory);
}

/** Layer class names we recognise in `new X(...)`. */
export function isKnownLayerClass(className: string): boolean {
  return FACTORY_OF_CLASS.has(className);
}

/** `BatchNormalization` → `batchNormalization` (canonical factory for a known class). */
export function factoryOfClass(className: string): string | undefined {
  return FACTORY_OF_CLASS.get(className);
}
