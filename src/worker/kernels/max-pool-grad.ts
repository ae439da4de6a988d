/**
 * MaxPoolGrad as one pass over the pooling windows: find each window's first maximum (same
 * tie-breaking as the stock cpu kernel: row-major window order, strict >, NaN never wins) and
 * route dy there. Stock kernels instead loop over every input pixel and every window covering it.
 */
import * as tf from '@tensorflow/tfjs';
import { TensorAccess } from './tensor-access';
import { kernelRoutines } from './simd-kernels';

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
  // The usual pooling layer (2x2, stride 2, no padding) on wasm: SIMD over 4 channels at a time, one row of windows per call.
  const simd = acc.memory && C % 4 === 0 ? kernelRoutines(acc.memory) : null;
  if (simd && fH === 2 && fW === 2 && sH === 2 && sW === 2 && padTop === 0 && padLeft === 0 && outH * 2 <= inH && outW * 2 <= inW) {
    const rowBytes = inW * C * 4;
    for (let n = 0; n < batchSize; n++) {
      for (let oh = 0; oh < outH; oh++) {
        const inRow = (n * inH + 2 * oh) * inW * C * 4;
        const dyRow = dyv.byteOffset + (n * outH + oh) * outW * C * 4;
        simd.maxPoolGrad2x2(xv.byteOffset + inRow, dyRow, dx.byteOffset + inRow, dyRow + outW * C * 4, C * 4, rowBytes);
      }
    }
    return out;
  }
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
