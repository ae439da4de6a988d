/**
 * Lazy gradients for tf.fused.conv2d (every tf.layers Conv2D) in training. Stock wraps the op in a customGrad
 * whose gradient returns dx, dfilter and dbias together, so a network's first convolution also computes the
 * gradient of the model's input, which nothing uses (1.2 ms of a ~15 ms CNN step on wasm). With a linear
 * activation (the only one tfjs fuses while recording gradients) the op here runs the FusedConv2D kernel
 * directly, and a registered FusedConv2D gradient gives the engine one thunk per input, so it computes only
 * the gradients it needs, as for every registered kernel. Other cases keep the stock op.
 */
import * as tf from '@tensorflow/tfjs';

interface ConvAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  activation?: string;
}

export const fusedConv2DGradConfig: tf.GradConfig = {
  kernelName: 'FusedConv2D',
  inputsToSave: ['x', 'filter'],
  gradFunc: (dy, saved, attrs) => {
    const [x, filter] = saved;
    const { strides, pad, dataFormat, dimRoundingMode, activation } = attrs as unknown as ConvAttrs;
    if (activation && activation !== 'linear')
      throw new Error(`NormScope: no gradient for FusedConv2D with activation '${activation}' (only linear ones are recorded)`);
    const conv = { strides, pad, dataFormat, dimRoundingMode };
    const run = (name: string, inputs: tf.NamedTensorMap, extra: object) =>
      tf.engine().runKernel(name, inputs, { ...conv, ...extra } as unknown as tf.NamedAttrMap) as tf.Tensor;
    const g = dy as tf.Tensor;
    return {
      x: () => run('Conv2DBackpropInput', { dy: g, filter }, { inputShape: x.shape }),
      filter: () => run('Conv2DBackpropFilter', { x, dy: g }, { filterShape: filter.shape }),
      bias: () => tf.sum(g, [0, 1, 2]),
    };
  },
};

type FusedConv2d = typeof tf.fused.conv2d;
const isTensor = (t: unknown, rank: number): t is tf.Tensor => t instanceof tf.Tensor && t.rank === rank && t.dtype === 'float32';
const unitDilation = (d: unknown) => d == null || (Array.isArray(d) ? d.every((v) => v === 1) : d === 1);

/** `tf.fused.conv2d` recording a FusedConv2D kernel when gradients are being recorded and the case is simple. */
export function lazyFusedConv2d(stock: FusedConv2d, enabled: () => boolean): FusedConv2d {
  const op = (args: Parameters<FusedConv2d>[0]): tf.Tensor => {
    const { x, filter, bias, strides, pad, dataFormat = 'NHWC', dilations, dimRoundingMode, activation, preluActivationWeights } = args;
    const recording = (tf.engine() as unknown as { state: { gradientDepth: number } }).state.gradientDepth > 0;
    const simple =
      recording &&
      enabled() &&
      (activation ?? 'linear') === 'linear' &&
      preluActivationWeights == null &&
      dataFormat === 'NHWC' &&
      unitDilation(dilations) &&
      isTensor(x, 4) &&
      isTensor(filter, 4) &&
      x.shape[3] === filter.shape[2] &&
      (bias == null || (isTensor(bias, 1) && bias.shape[0] === filter.shape[3]));
    if (!simple) return stock(args);
    const inputs: tf.NamedTensorMap = { x: x as tf.Tensor, filter: filter as tf.Tensor };
    if (bias != null) inputs.bias = bias as tf.Tensor;
    const attrs = { strides, pad, dataFormat, dilations: [1, 1], dimRoundingMode, activation: 'linear' };
    return tf.engine().runKernel('FusedConv2D', inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor4D;
  };
  return op as FusedConv2d;
}
