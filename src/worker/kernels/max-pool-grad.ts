/**
 * MaxPoolGrad as one pass over the pooling windows: find each window's first maximum (same
 * tie-breaking as the stock cpu kernel: row-major window order, strict >, NaN never wins) and
 * route dy there. Stock kernels instead loop over every input pixel and every window covering it.
 */
import * as tf from '@tensorflow/tfjs';
import { TensorAccess } from './tensor-access';

export interface MaxPoolGradAttrs {
  filterSize: [number, number] | number;
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

export function maxPoolGradByWindows(acc: TensorAccess, dy: tf.TensorInfo, x: tf.TensorInfo, attrs: MaxPoolGradAttrs): tf.TensorInfo {
  const info = tf.backend_util.computePool2DInfo(
    x.shape as [number, number, number, number],
    attrs.filterSize,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  const { batchSize, inHeight: inH, inWidth: inW, inChannels: C, outHeight: outH, outWidth: outW } = info;
  const { filterHeight: fH, filterWidth: fW, strideHeight: sH, strideWidth: sW } = info;
  const padTop = info.padInfo.top;
  const padLeft = info.padInfo.left;
  const {
    out,
    outValues: dx,
    inValues: [dyv, xv],
  } = acc.withOutput(x.shape, [dy, x]);
  // Per-channel running maximum of the current window; channels are contiguous in NHWC.
  const best = new Float32Array(C);
  const at = new Int32Array(C);
  for (let n = 0; n < batchSize; n++) {
    for (let oh = 0; oh < outH; oh++) {
      const hStart = oh * sH - padTop;
      const h0 = Math.max(0, hStart);
      const h1 = Math.min(inH, hStart + fH);
      for (let ow = 0; ow < outW; ow++) {
        const wStart = ow * sW - padLeft;
        const w0 = Math.max(0, wStart);
        const w1 = Math.min(inW, wStart + fW);
        best.fill(Number.NEGATIVE_INFINITY);
        at.fill(-1);
        for (let h = h0; h < h1; h++) {
          for (let w = w0; w < w1; w++) {
            const base = ((n * inH + h) * inW + w) * C;
            for (let c = 0; c < C; c++) {
              const v = xv[base + c];
              if (v > best[c]) {
                best[c] = v;
                at[c] = base + c;
              }
            }
          }
        }
        const dyOff = ((n * outH + oh) * outW + ow) * C;
        for (let c = 0; c < C; c++) if (at[c] >= 0) dx[at[c]] += dyv[dyOff + c];
      }
    }
  }
  return out;
}
