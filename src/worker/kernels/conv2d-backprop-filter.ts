/**
 * Conv2DBackpropFilter (the filter gradient of conv2d and of the fused conv2d that tfjs-layers uses).
 * Stock cpu runs it as a 7-deep scalar loop (~1.8 s for x[32,14,14,8], f[3,3,8,16]) and wasm has
 * none, so training a CNN on wasm fails. Two implementations over the same math:
 *   dW[fh,fw,ci,co] = Σ_{n,oh,ow} x[n, oh·s+fh·d−padTop, ow·s+fw·d−padLeft, ci] · dy[n,oh,ow,co]
 */
import * as tf from '@tensorflow/tfjs';
import { ConvGeometry, convGeometry } from './conv-geometry';
import { TensorAccess } from './tensor-access';

export interface BackpropFilterAttrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
}

export function backpropFilterGeometry(x: tf.TensorInfo, attrs: BackpropFilterAttrs): ConvGeometry {
  return convGeometry(x.shape, attrs.filterShape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false);
}

/**
 * The gradient is itself a convolution: treat input channels as the batch and the batch as the
 * channels, i.e. convolve x viewed as [Ci,H,W,N] with dy viewed as the filter [OH,OW,N,Co]; the
 * forward stride becomes the dilation. Lets wasm use its XNNPACK Conv2D (a few ms instead of seconds).
 */
export function backpropFilterAsConv(acc: TensorAccess, x: tf.TensorInfo, dy: tf.TensorInfo, g: ConvGeometry): tf.TensorInfo {
  // Rows the transposed conv reads: the last tap of the last output position, from the padded top.
  const spanH = g.filterH - 1 + (g.outH - 1) * g.strideH + 1;
  const spanW = g.filterW - 1 + (g.outW - 1) * g.strideW + 1;
  const padBottom = spanH - g.padTop - g.inH;
  const padRight = spanW - g.padLeft - g.inW;
  const temps: tf.TensorInfo[] = [];
  try {
    let xT = acc.run('Transpose', { x }, { perm: [3, 1, 2, 0] });
    temps.push(xT);
    if (padBottom < 0 || padRight < 0) {
      // Rows/columns no output position touches (valid padding with stride > 1): crop them,
      // because convolution padding cannot be negative.
      xT = acc.run(
        'Slice',
        { x: xT },
        {
          begin: [0, 0, 0, 0],
          size: [g.inC, g.inH + Math.min(padBottom, 0), g.inW + Math.min(padRight, 0), g.batch],
        },
      );
      temps.push(xT);
    }
    const dyT = acc.run('Transpose', { x: dy }, { perm: [1, 2, 0, 3] });
    temps.push(dyT);
    const conv = acc.run('Conv2D', { x: xT, filter: dyT }, {
      strides: [1, 1],
      dilations: [g.strideH, g.strideW],
      pad: [
        [0, 0],
        [g.padTop, Math.max(padBottom, 0)],
        [g.padLeft, Math.max(padRight, 0)],
        [0, 0],
      ],
      dataFormat: 'NHWC',
    } as unknown as tf.NamedAttrMap);
    temps.push(conv);
    return acc.run('Transpose', { x: conv }, { perm: [1, 2, 0, 3] });
  } finally {
    for (const t of temps) acc.free(t);
  }
}

/** Direct loops with the output-channel loop innermost (contiguous in dy and dW); skips zero inputs (post-ReLU). */
export function backpropFilterLoops(acc: TensorAccess, x: tf.TensorInfo, dy: tf.TensorInfo, g: ConvGeometry): tf.TensorInfo {
  const {
    out,
    outValues: dw,
    inValues: [xv, dyv],
  } = acc.withOutput([g.filterH, g.filterW, g.inC, g.outC], [x, dy]);
  const { inH, inW, inC, outH, outW, outC, filterH, filterW } = g;
  for (let n = 0; n < g.batch; n++) {
    for (let oh = 0; oh < outH; oh++) {
      for (let ow = 0; ow < outW; ow++) {
        const dyOff = ((n * outH + oh) * outW + ow) * outC;
        for (let fh = 0; fh < filterH; fh++) {
          const ih = oh * g.strideH - g.padTop + fh * g.dilationH;
          if (ih < 0 || ih >= inH) continue;
          for (let fw = 0; fw < filterW; fw++) {
            const iw = ow * g.strideW - g.padLeft + fw * g.dilationW;
            if (iw < 0 || iw >= inW) continue;
            const xOff = ((n * inH + ih) * inW + iw) * inC;
            const wOff = (fh * filterW + fw) * inC * outC;
            for (let ci = 0; ci < inC; ci++) {
              const v = xv[xOff + ci];
              if (v === 0) continue;
              const row = wOff + ci * outC;
              for (let co = 0; co < outC; co++) dw[row + co] += v * dyv[dyOff + co];
            }
          }
        }
      }
    }
  }
  return out;
}
