/** Shared geometry of a 2-D NHWC convolution, resolved once per kernel call from tfjs attrs. */
import * as tf from '@tensorflow/tfjs';

export interface ConvGeometry {
  batch: number;
  inH: number;
  inW: number;
  inC: number;
  outH: number;
  outW: number;
  outC: number;
  filterH: number;
  filterW: number;
  strideH: number;
  strideW: number;
  dilationH: number;
  dilationW: number;
  padTop: number;
  padLeft: number;
}

type Pad = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;

/**
 * `filterShape` is [h, w, inC, outC] for conv2d and [h, w, inC, multiplier] for depthwise
 * (then outC = inC * multiplier). Uses tfjs' own shape logic so padding matches the stock kernels.
 */
export function convGeometry(
  inShape: number[],
  filterShape: number[],
  strides: [number, number] | number,
  dilations: [number, number] | number,
  pad: Pad,
  dimRoundingMode: 'floor' | 'round' | 'ceil' | undefined,
  depthwise: boolean,
): ConvGeometry {
  const info = tf.backend_util.computeConv2DInfo(
    inShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    strides,
    dilations,
    pad,
    dimRoundingMode,
    depthwise,
    'channelsLast',
  );
  return {
    batch: info.batchSize,
    inH: info.inHeight,
    inW: info.inWidth,
    inC: info.inChannels,
    outH: info.outHeight,
    outW: info.outWidth,
    outC: info.outChannels,
    filterH: info.filterHeight,
    filterW: info.filterWidth,
    strideH: info.strideHeight,
    strideW: info.strideWidth,
    dilationH: info.dilationHeight,
    dilationW: info.dilationWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
  };
}

/** Kernels here implement NHWC only; other layouts go to the stock kernel or fail clearly. */
export function isChannelsLast(dataFormat: string | undefined): boolean {
  return dataFormat === undefined || dataFormat === 'NHWC' || dataFormat === 'channelsLast';
}
