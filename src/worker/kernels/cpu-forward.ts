/**
 * Forward conv2d and matmul (plain and fused with bias + relu/linear) for the cpu backend, as
 * loops whose innermost index is contiguous in both operands. Once the gradients were fast, the
 * stock cpu forward conv was most of a CNN step. Other activations and layouts go to stock.
 */
import * as tf from '@tensorflow/tfjs';
import { ConvGeometry } from './conv-geometry';
import { TensorAccess } from './tensor-access';

/** Activations applied here; the rest ('elu', 'prelu', ...) keep the stock kernel. */
export function isSimpleActivation(activation: unknown): activation is 'linear' | 'relu' | undefined {
  return activation === undefined || activation === null || activation === 'linear' || activation === 'relu';
}

/** bias of shape [C] (or absent) added per output channel, then optional relu, in place. */
function finish(out: Float32Array, channels: number, bias: Float32Array | undefined, relu: boolean): void {
  if (!bias && !relu) return;
  for (let i = 0; i < out.length; i += channels) {
    for (let c = 0; c < channels; c++) {
      const v = bias ? out[i + c] + bias[c] : out[i + c];
      out[i + c] = relu && v < 0 ? 0 : v;
    }
  }
}

/**
 * The sliding-window walk is written out here and in the two backprop kernels rather than shared through a
 * callback: one walker called with three different inner bodies turns megamorphic in V8 and its innermost
 * loop (the hot one) stops being inlined, which costs more than the repetition.
 */
export function conv2dLoops(
  acc: TensorAccess,
  x: tf.TensorInfo,
  filter: tf.TensorInfo,
  bias: tf.TensorInfo | undefined,
  relu: boolean,
  g: ConvGeometry,
): tf.TensorInfo {
  const inputs = bias ? [x, filter, bias] : [x, filter];
  const {
    out,
    outValues: y,
    inValues: [xv, f, b],
  } = acc.withOutput([g.batch, g.outH, g.outW, g.outC], inputs);
  const { inH, inW, inC, outH, outW, outC, filterH, filterW } = g;
  for (let n = 0; n < g.batch; n++) {
    for (let oh = 0; oh < outH; oh++) {
      for (let ow = 0; ow < outW; ow++) {
        const yOff = ((n * outH + oh) * outW + ow) * outC;
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
              for (let co = 0; co < outC; co++) y[yOff + co] += v * f[row + co];
            }
          }
        }
      }
    }
  }
  finish(y, outC, b, relu);
  return out;
}

/** Row-major [rows, cols] at `offset` → [cols, rows]. */
function transposed(v: Float32Array, offset: number, rows: number, cols: number): Float32Array {
  const t = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = v[offset + r * cols + c];
  return t;
}

/**
 * o[i,j] = Σ_p a[i,p]·bt[j,p] with both operands rows contiguous in p. 4x4 output blocks keep
 * 16 sums in locals (16 multiply-adds per 8 loads); ~4x faster than a plain i-k-j loop in V8.
 */
// eslint-disable-next-line max-lines-per-function -- one unrolled 4x4 register block: split, its 16 sums would leave locals
function dotBlocks(
  a: Float32Array,
  aOff: number,
  bt: Float32Array,
  bOff: number,
  o: Float32Array,
  oOff: number,
  m: number,
  k: number,
  n: number,
): void {
  const m4 = m - (m % 4);
  const n4 = n - (n % 4);
  for (let i = 0; i < m4; i += 4) {
    const a0 = aOff + i * k;
    const a1 = a0 + k;
    const a2 = a1 + k;
    const a3 = a2 + k;
    for (let j = 0; j < n4; j += 4) {
      const b0 = bOff + j * k;
      const b1 = b0 + k;
      const b2 = b1 + k;
      const b3 = b2 + k;
      let c00 = 0,
        c01 = 0,
        c02 = 0,
        c03 = 0,
        c10 = 0,
        c11 = 0,
        c12 = 0,
        c13 = 0;
      let c20 = 0,
        c21 = 0,
        c22 = 0,
        c23 = 0,
        c30 = 0,
        c31 = 0,
        c32 = 0,
        c33 = 0;
      for (let p = 0; p < k; p++) {
        const x0 = a[a0 + p];
        const x1 = a[a1 + p];
        const x2 = a[a2 + p];
        const x3 = a[a3 + p];
        const y0 = bt[b0 + p];
        const y1 = bt[b1 + p];
        const y2 = bt[b2 + p];
        const y3 = bt[b3 + p];
        c00 += x0 * y0;
        c01 += x0 * y1;
        c02 += x0 * y2;
        c03 += x0 * y3;
        c10 += x1 * y0;
        c11 += x1 * y1;
        c12 += x1 * y2;
        c13 += x1 * y3;
        c20 += x2 * y0;
        c21 += x2 * y1;
        c22 += x2 * y2;
        c23 += x2 * y3;
        c30 += x3 * y0;
        c31 += x3 * y1;
        c32 += x3 * y2;
        c33 += x3 * y3;
      }
      let r = oOff + i * n + j;
      o[r] = c00;
      o[r + 1] = c01;
      o[r + 2] = c02;
      o[r + 3] = c03;
      r += n;
      o[r] = c10;
      o[r + 1] = c11;
      o[r + 2] = c12;
      o[r + 3] = c13;
      r += n;
      o[r] = c20;
      o[r + 1] = c21;
      o[r + 2] = c22;
      o[r + 3] = c23;
      r += n;
      o[r] = c30;
      o[r + 1] = c31;
      o[r + 2] = c32;
      o[r + 3] = c33;
    }
  }
  // Rows past the last full block of 4, and the remaining columns of the blocked rows.
  for (let i = 0; i < m; i++) {
    for (let j = i < m4 ? n4 : 0; j < n; j++) {
      let sum = 0;
      for (let p = 0; p < k; p++) sum += a[aOff + i * k + p] * bt[bOff + j * k + p];
      o[oOff + i * n + j] = sum;
    }
  }
}

/**
 * Batched matmul with equal batch sizes or a batch of 1 on either side; `null` for other
 * broadcasts (stock handles them). Operands are laid out as a[m,k] and b as [n,k] first.
 */
export function matMulLoops(
  acc: TensorAccess,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
  bias: tf.TensorInfo | undefined,
  relu: boolean,
): tf.TensorInfo | null {
  const ra = a.shape.length;
  const rb = b.shape.length;
  const batchA = a.shape.slice(0, -2).reduce((p, d) => p * d, 1);
  const batchB = b.shape.slice(0, -2).reduce((p, d) => p * d, 1);
  if (batchA !== batchB && batchA !== 1 && batchB !== 1) return null;
  const batchShape = (batchA >= batchB ? a : b).shape.slice(0, -2);
  const [aRows, aCols] = [a.shape[ra - 2], a.shape[ra - 1]];
  const [bRows, bCols] = [b.shape[rb - 2], b.shape[rb - 1]];
  const m = transposeA ? aCols : aRows;
  const k = transposeA ? aRows : aCols;
  const n = transposeB ? bRows : bCols;
  if ((transposeB ? bCols : bRows) !== k)
    throw new Error(`BatchMatMul: inner dimensions ${k} and ${transposeB ? bCols : bRows} differ (shapes [${a.shape}] and [${b.shape}])`);
  const inputs = bias ? [a, b, bias] : [a, b];
  const {
    out,
    outValues: o,
    inValues: [av, bv, biasV],
  } = acc.withOutput([...batchShape, m, n], inputs);
  const batch = Math.max(batchA, batchB);
  for (let q = 0; q < batch; q++) {
    const aOff = (batchA === 1 ? 0 : q) * aRows * aCols;
    const bOff = (batchB === 1 ? 0 : q) * bRows * bCols;
    const aMat = transposeA ? transposed(av, aOff, aRows, aCols) : av;
    const bMat = transposeB ? bv : transposed(bv, bOff, bRows, bCols);
    dotBlocks(aMat, transposeA ? 0 : aOff, bMat, transposeB ? bOff : 0, o, q * m * n, m, k, n);
  }
  finish(o, n, biasV, relu);
  return out;
}
