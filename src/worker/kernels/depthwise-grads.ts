/**
 * Gradients of depthwise conv2d (also used by separableConv2d), which the wasm backend lacks.
 * Filter [fh, fw, C, M]; output channel k = c·M + m reads input channel c. Direct loops: the work
 * is C·M multiply-adds per tap, small next to a full convolution, so plain JS is fast enough.
 */
import * as tf from '@tensorflow/tfjs';
import { ConvGeometry, convGeometry } from './conv-geometry';
import { TensorAccess } from './tensor-access';

interface DepthwiseGradAttrs {
  strides: [number, number] | number;
  dilations: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}
export interface DepthwiseFilterGradAttrs extends DepthwiseGradAttrs {
  filterShape: [number, number, number, number];
}
export interface DepthwiseInputGradAttrs extends DepthwiseGradAttrs {
  inputShape: [number, number, number, number];
}

function geometry(inShape: number[], filterShape: number[], a: DepthwiseGradAttrs): ConvGeometry {
  return convGeometry(inShape, filterShape, a.strides, a.dilations, a.pad, a.dimRoundingMode, true);
}

/** Calls `tap(xOff, dyOff, wOff)` for every (output position, filter tap) that lands inside the input. */
function forEachTap(g: ConvGeometry, tap: (xOff: number, dyOff: number, wOff: number) => void): void {
  for (let n = 0; n < g.batch; n++) {
    for (let oh = 0; oh < g.outH; oh++) {
      for (let ow = 0; ow < g.outW; ow++) {
        const dyOff = ((n * g.outH + oh) * g.outW + ow) * g.outC;
        for (let fh = 0; fh < g.filterH; fh++) {
          const ih = oh * g.strideH - g.padTop + fh * g.dilationH;
          if (ih < 0 || ih >= g.inH) continue;
          for (let fw = 0; fw < g.filterW; fw++) {
            const iw = ow * g.strideW - g.padLeft + fw * g.dilationW;
            if (iw < 0 || iw >= g.inW) continue;
            tap(((n * g.inH + ih) * g.inW + iw) * g.inC, dyOff, (fh * g.filterW + fw) * g.outC);
          }
        }
      }
    }
  }
}

export function depthwiseBackpropFilter(
  acc: TensorAccess,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  attrs: DepthwiseFilterGradAttrs,
): tf.TensorInfo {
  const g = geometry(x.shape, attrs.filterShape, attrs);
  const M = g.outC / g.inC;
  const {
    out,
    outValues: dw,
    inValues: [xv, dyv],
  } = acc.withOutput(attrs.filterShape, [x, dy]);
  forEachTap(g, (xOff, dyOff, wOff) => {
    for (let c = 0, k = 0; c < g.inC; c++) {
      const v = xv[xOff + c];
      for (let m = 0; m < M; m++, k++) dw[wOff + k] += v * dyv[dyOff + k];
    }
  });
  return out;
}

export function depthwiseBackpropInput(
  acc: TensorAccess,
  dy: tf.TensorInfo,
  filter: tf.TensorInfo,
  attrs: DepthwiseInputGradAttrs,
): tf.TensorInfo {
  const g = geometry(attrs.inputShape, filter.shape, attrs);
  const M = g.outC / g.inC;
  const {
    out,
    outValues: dx,
    inValues: [dyv, f],
  } = acc.withOutput(attrs.inputShape, [dy, filter]);
  forEachTap(g, (xOff, dyOff, wOff) => {
    for (let c = 0, k = 0; c < g.inC; c++) {
      let s = 0;
      for (let m = 0; m < M; m++, k++) s += f[wOff + k] * dyv[dyOff + k];
      dx[xOff + c] += s;
    }
  });
  return out;
}
