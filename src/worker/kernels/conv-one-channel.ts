/**
 * Gradients of a convolution whose input has one channel (a CNN's first layer on grey images) on wasm,
 * as one matrix product each. Done as convolutions (./conv2d-backprop-filter.ts, -input.ts), XNNPACK gets
 * degenerate shapes here: a 3x3 filter gradient becomes a 9-pixel output with a 28x28x32 "filter"
 * (transposes, then packing 200k weights per call), and the input gradient a convolution with one output
 * channel (1 of 8 SIMD lanes used); each cost 1.5–2.5 ms for x[32,28,28,1], dy[32,28,28,8]. With P output
 * positions and T = filterH·filterW taps (t = fh·filterW + fw):
 *   filter: dW[t, co] = Σ_p colT[t, p] · dy[p, co], colT[t, p] the input pixel under tap t at position p
 *   input:  Z[p, t] = Σ_co dy[p, co] · W[t, co], then dx[pixel under tap t at p] += Z[p, t]
 * The small side of each product (colT, Wᵀ) is built in JS; XNNPACK multiplies (BatchMatMul).
 */
import * as tf from '@tensorflow/tfjs';
import { ConvGeometry } from './conv-geometry';
import { TensorAccess } from './tensor-access';

/** One input channel, no dilation: what these two kernels handle (others keep the convolution form). */
export const isOneChannel = (g: ConvGeometry) => g.inC === 1 && g.dilationH === 1 && g.dilationW === 1;

/**
 * For each tap t and output position p whose input pixel lies inside x: `col[t·P + p] = x[pixel]` (gather),
 * or `x[pixel] += col[t·P + p]` (scatter); both run along contiguous rows of col (t-major), and a stride-1
 * gather is a block copy. One walk for both: a callback per element would not be inlined.
 */
function walkTaps(g: ConvGeometry, x: Float32Array, col: Float32Array, scatter: boolean): void {
  const { batch, inH, inW, outH, outW, filterH, filterW, strideH, strideW, padTop, padLeft } = g;
  const P = batch * outH * outW;
  // Taps innermost but one: the slice of col one output row touches (outW·T floats) stays in L1.
  for (let n = 0; n < batch; n++) {
    for (let oh = 0; oh < outH; oh++) {
      const p0 = (n * outH + oh) * outW;
      for (let fh = 0; fh < filterH; fh++) {
        const ih = oh * strideH - padTop + fh;
        if (ih < 0 || ih >= inH) continue;
        for (let fw = 0; fw < filterW; fw++) {
          const t = fh * filterW + fw;
          const row = (n * inH + ih) * inW - padLeft + fw;
          // ow range whose iw = ow·strideW − padLeft + fw is inside [0, inW)
          const first = Math.max(0, Math.ceil((padLeft - fw) / strideW));
          const last = Math.min(outW - 1, Math.floor((inW - 1 + padLeft - fw) / strideW));
          const at = t * P + p0;
          if (scatter) for (let ow = first; ow <= last; ow++) x[row + ow * strideW] += col[at + ow];
          else if (strideW === 1 && last >= first) col.set(x.subarray(row + first, row + last + 1), at + first);
          else for (let ow = first; ow <= last; ow++) col[at + ow] = x[row + ow * strideW];
        }
      }
    }
  }
}

/** dW [filterH, filterW, 1, outC] as colT[T, P] × dy[P, outC]. */
export function backpropFilterOneChannel(acc: TensorAccess, x: tf.TensorInfo, dy: tf.TensorInfo, g: ConvGeometry): tf.TensorInfo {
  const T = g.filterH * g.filterW;
  const P = g.batch * g.outH * g.outW;
  const {
    out: colT,
    outValues: col,
    inValues: [xv],
  } = acc.withOutput([1, T, P], [x]);
  walkTaps(g, xv, col, false);
  const dy3 = { ...acc.alias(dy), shape: [1, P, g.outC] };
  try {
    const product = acc.run('BatchMatMul', { a: colT, b: dy3 }, { transposeA: false, transposeB: false });
    const dw = { ...acc.alias(product), shape: [g.filterH, g.filterW, 1, g.outC] };
    acc.free(product);
    return dw;
  } finally {
    acc.free(colT);
    acc.free(dy3);
  }
}

/** dx [batch, inH, inW, 1]: Z = dy[P, outC] × Wᵀ[outC, T], transposed to [T, P], each Z[p, t] added to the pixel under tap t. */
export function backpropInputOneChannel(acc: TensorAccess, dy: tf.TensorInfo, filter: tf.TensorInfo, g: ConvGeometry): tf.TensorInfo {
  const T = g.filterH * g.filterW;
  const P = g.batch * g.outH * g.outW;
  const {
    outs: [wT],
    outValues: [wt],
    inValues: [f],
  } = acc.withOutputs([[1, g.outC, T]], [filter]);
  for (let t = 0; t < T; t++) for (let co = 0; co < g.outC; co++) wt[co * T + t] = f[t * g.outC + co];
  const dy3 = { ...acc.alias(dy), shape: [1, P, g.outC] };
  // XNNPACK packs its right operand on every call: here the small Wᵀ (dyᵀ as the right one cost more, packing P·outC).
  const temps: tf.TensorInfo[] = [wT, dy3];
  try {
    const z = acc.run('BatchMatMul', { a: dy3, b: wT }, { transposeA: false, transposeB: false });
    temps.push(z);
    const zT = acc.run('Transpose', { x: z }, { perm: [0, 2, 1] });
    temps.push(zT);
    const {
      out,
      outValues: dx,
      inValues: [zv],
    } = acc.withOutput([g.batch, g.inH, g.inW, 1], [zT]);
    walkTaps(g, dx, zv, true);
    return out;
  } finally {
    for (const t of temps) acc.free(t);
  }
}
