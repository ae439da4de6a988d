/**
 * Broadcasting float32 arithmetic and Sum/Mean for the cpu backend. The stock cpu kernels map
 * every output element back to input coordinates (and reduce by transposing first), so e.g. the
 * batch-norm statistics of one [32,28,28,8] activation took longer than its convolution. Here the
 * shapes are folded into a few dimensions with one broadcast pattern each and walked with strides.
 */
import * as tf from '@tensorflow/tfjs';
import { TensorAccess } from './tensor-access';

export type BinaryOp = 'Add' | 'Sub' | 'Multiply' | 'RealDiv';

/** Output shape plus, per folded dimension, its size and the element strides of a and b (0 = broadcast). */
function foldBroadcast(aShape: number[], bShape: number[]): { outShape: number[]; dims: number[]; aStr: number[]; bStr: number[] } {
  const outShape = tf.backend_util.assertAndGetBroadcastShape(aShape, bShape);
  const rank = outShape.length;
  const pad = (s: number[]) => [...new Array<number>(rank - s.length).fill(1), ...s];
  const [a, b] = [pad(aShape), pad(bShape)];
  // Walk from the innermost dimension, merging neighbours whose broadcast pattern is the same.
  const dims: number[] = [];
  const aStr: number[] = [];
  const bStr: number[] = [];
  let aStride = 1;
  let bStride = 1;
  for (let d = rank - 1; d >= 0; d--) {
    const size = outShape[d];
    if (size === 1) continue;
    const sa = a[d] === 1 ? 0 : aStride;
    const sb = b[d] === 1 ? 0 : bStride;
    const last = dims.length - 1;
    if (
      last >= 0 &&
      (sa === 0) === (aStr[last] === 0) &&
      (sb === 0) === (bStr[last] === 0) &&
      sa === (aStr[last] === 0 ? 0 : aStr[last] * dims[last]) &&
      sb === (bStr[last] === 0 ? 0 : bStr[last] * dims[last])
    ) {
      dims[last] *= size;
    } else {
      dims.push(size);
      aStr.push(sa);
      bStr.push(sb);
    }
    aStride *= a[d];
    bStride *= b[d];
  }
  // Innermost first above; callers want outermost first.
  return { outShape, dims: dims.reverse(), aStr: aStr.reverse(), bStr: bStr.reverse() };
}

export function broadcastBinary(acc: TensorAccess, op: BinaryOp, a: tf.TensorInfo, b: tf.TensorInfo): tf.TensorInfo {
  const { outShape, dims, aStr, bStr } = foldBroadcast(a.shape, b.shape);
  const {
    out,
    outValues: o,
    inValues: [av, bv],
  } = acc.withOutput(outShape, [a, b]);
  if (o.length === 0) return out;
  const inner = dims.length ? dims[dims.length - 1] : 1;
  const ia = dims.length ? aStr[aStr.length - 1] : 0;
  const ib = dims.length ? bStr[bStr.length - 1] : 0;
  const outerDims = dims.slice(0, -1);
  const counter = new Array<number>(outerDims.length).fill(0);
  let pa = 0;
  let pb = 0;
  for (let po = 0; po < o.length; po += inner) {
    switch (op) {
      case 'Add':
        for (let k = 0; k < inner; k++) o[po + k] = av[pa + k * ia] + bv[pb + k * ib];
        break;
      case 'Sub':
        for (let k = 0; k < inner; k++) o[po + k] = av[pa + k * ia] - bv[pb + k * ib];
        break;
      case 'Multiply':
        for (let k = 0; k < inner; k++) o[po + k] = av[pa + k * ia] * bv[pb + k * ib];
        break;
      case 'RealDiv':
        for (let k = 0; k < inner; k++) o[po + k] = av[pa + k * ia] / bv[pb + k * ib];
        break;
    }
    // Odometer over the outer folded dimensions.
    for (let d = outerDims.length - 1; d >= 0; d--) {
      pa += aStr[d];
      pb += bStr[d];
      if (++counter[d] < outerDims[d]) break;
      pa -= aStr[d] * outerDims[d];
      pb -= bStr[d] * outerDims[d];
      counter[d] = 0;
    }
  }
  return out;
}

/**
 * Sum or mean over axes that are all leading or all trailing (the batch-statistics and the
 * per-example cases); `null` for other axis sets, which the stock kernel handles.
 */
export function reduceLeadingOrTrailing(
  acc: TensorAccess,
  x: tf.TensorInfo,
  axis: number | number[],
  keepDims: boolean,
  mean: boolean,
): tf.TensorInfo | null {
  const rank = x.shape.length;
  const axes = tf.util.parseAxisParam(axis, x.shape).sort((p, q) => p - q);
  const k = axes.length;
  if (k === 0) return null;
  const leading = axes.every((a, i) => a === i);
  const trailing = axes.every((a, i) => a === rank - k + i);
  if (!leading && !trailing) return null;
  const reduced = axes.reduce((p, a) => p * x.shape[a], 1);
  const kept = x.shape.reduce((p, d) => p * d, 1) / (reduced || 1);
  const outShape = keepDims ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !axes.includes(i));
  const {
    out,
    outValues: o,
    inValues: [v],
  } = acc.withOutput(outShape, [x]);
  const scale = mean ? 1 / reduced : 1;
  if (leading) {
    // x is [reduced, kept]: one column sum per kept element, in float64 locals.
    for (let j = 0; j < kept; j++) {
      let s = 0;
      for (let i = j; i < reduced * kept; i += kept) s += v[i];
      o[j] = s * scale;
    }
  } else {
    for (let i = 0; i < kept; i++) {
      let s = 0;
      for (let j = i * reduced, end = j + reduced; j < end; j++) s += v[j];
      o[i] = s * scale;
    }
  }
  return out;
}
