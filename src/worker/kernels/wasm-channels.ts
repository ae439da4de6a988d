/**
 * Per-channel passes over a [..., C] activation on the wasm backend (C a multiple of 4), run by the SIMD
 * routines of ./simd-kernels.ts in the backend's memory: batch norm's statistics (tf.moments: a broadcast
 * Sub and two leading-axes Means), its FusedBatchNorm, and the per-channel Add/Sub/Multiply of bias and
 * norm gradients. Stock wasm does each with per-element index arithmetic, 5–10× slower.
 */
import * as tf from '@tensorflow/tfjs';
import { kernelRoutines } from './simd-kernels';
import { TensorAccess } from './tensor-access';

/** Below this many elements the stock kernels cost too little to matter. */
export const MIN_CHANNEL_PASS_SIZE = 32768;

const sizeOf = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** The SIMD routines where x qualifies: float32, rank ≥ 2, channels a multiple of 4, not tiny. */
function routinesFor(acc: TensorAccess, x: tf.TensorInfo) {
  const C = x.shape[x.shape.length - 1];
  const fits = x.dtype === 'float32' && x.shape.length >= 2 && C % 4 === 0 && C > 0 && sizeOf(x.shape) >= MIN_CHANNEL_PASS_SIZE;
  return fits && acc.memory ? kernelRoutines(acc.memory) : null;
}

/**
 * x·a[c] + b[c] over the last axis. `fill` writes a and b (C floats each) from the values of `inputs`;
 * returning false abandons the pass. Null where the SIMD routines do not apply.
 */
export function channelAffine(
  acc: TensorAccess,
  x: tf.TensorInfo,
  fill: (a: Float32Array, b: Float32Array, inputs: Float32Array[]) => boolean,
  inputs: tf.TensorInfo[] = [],
): tf.TensorInfo | null {
  const simd = routinesFor(acc, x);
  if (!simd) return null;
  const C = x.shape[x.shape.length - 1];
  // The output needs no zero fill (every element is written); its view comes with the inputs', after every allocation.
  const { out } = acc.withRawOutput(x.shape, 'float32', []);
  const {
    outs: [scratch],
    outValues: [ab],
    inValues: [xv, ov, ...values],
  } = acc.withOutputs([[2 * C]], [x, out, ...inputs]);
  const ok = fill(ab.subarray(0, C), ab.subarray(C), values);
  if (ok) simd.affine(xv.byteOffset, ov.byteOffset, xv.byteOffset + xv.length * 4, C * 4, ab.byteOffset, ab.byteOffset + C * 4);
  acc.free(scratch);
  if (ok) return out;
  acc.free(out);
  return null;
}

/** Whether `v` broadcasts against the full-shape `x` along its last axis only ([C] or [1,…,1,C]). */
export function isChannelVector(v: tf.TensorInfo, x: tf.TensorInfo): boolean {
  const C = x.shape[x.shape.length - 1];
  return (
    v.shape.length <= x.shape.length &&
    v.shape.length >= 1 &&
    v.shape[v.shape.length - 1] === C &&
    v.shape.slice(0, -1).every((d) => d === 1)
  );
}

/**
 * Add, Sub or Multiply of a full tensor and a per-channel vector (either side); null for other shapes.
 * The output has the full tensor's shape (a vector's extra leading 1s never exceed its rank here).
 */
export function channelBinary(acc: TensorAccess, op: 'Add' | 'Sub' | 'Multiply', a: tf.TensorInfo, b: tf.TensorInfo): tf.TensorInfo | null {
  const vectorFirst = isChannelVector(a, b) && sizeOf(a.shape) < sizeOf(b.shape);
  const [x, v] = vectorFirst ? [b, a] : [a, b];
  if (!isChannelVector(v, x) || sizeOf(x.shape) < MIN_CHANNEL_PASS_SIZE || x.shape.length < 2) return null;
  return channelAffine(
    acc,
    x,
    (scale, shift, [vv]) => {
      for (let c = 0; c < scale.length; c++) {
        if (op === 'Multiply') [scale[c], shift[c]] = [vv[c], 0];
        else if (op === 'Add') [scale[c], shift[c]] = [1, vv[c]];
        else if (vectorFirst)
          [scale[c], shift[c]] = [-1, vv[c]]; // v − x
        else [scale[c], shift[c]] = [1, -vv[c]]; // x − v
      }
      return true;
    },
    [v],
  );
}

/**
 * tf.batchNorm with per-channel parameters: y = x·a + b with a = scale/√(var+ε), b = offset − mean·a.
 * Null for other parameter shapes, small x, or where that form would cancel digits that stock's
 * (x − mean)·a keeps (|mean·a| over 1e3, a mean far from the data's spread).
 */
export function channelBatchNorm(
  acc: TensorAccess,
  x: tf.TensorInfo,
  params: { mean: tf.TensorInfo; variance: tf.TensorInfo; offset?: tf.TensorInfo; scale?: tf.TensorInfo },
  epsilon: number,
): tf.TensorInfo | null {
  const { mean, variance, offset, scale } = params;
  const given = [mean, variance, offset, scale].filter((t): t is tf.TensorInfo => t != null);
  if (x.shape.length < 2 || sizeOf(x.shape) < MIN_CHANNEL_PASS_SIZE || !given.every((t) => isChannelVector(t, x) && t.dtype === 'float32'))
    return null;
  return channelAffine(
    acc,
    x,
    (a, b, [m, v, ...rest]) => {
      const o = offset ? rest.shift() : undefined;
      const s = scale ? rest.shift() : undefined;
      for (let c = 0; c < a.length; c++) {
        a[c] = (s ? s[c] : 1) / Math.sqrt(v[c] + epsilon);
        b[c] = (o ? o[c] : 0) - m[c] * a[c];
        if (!(Math.abs(m[c] * a[c]) <= 1e3)) return false; // also NaN/Infinity: stock propagates those
      }
      return true;
    },
    given,
  );
}

/** Sum (or mean) over every axis but the last, in float64; null for other axes or where SIMD does not apply. */
export function leadingAxesSum(
  acc: TensorAccess,
  x: tf.TensorInfo,
  axis: number | number[],
  keepDims: boolean,
  mean: boolean,
): tf.TensorInfo | null {
  const rank = x.shape.length;
  const axes = tf.util.parseAxisParam(axis, x.shape).sort((p, q) => p - q);
  const simd = routinesFor(acc, x);
  if (!simd || axes.length !== rank - 1 || !axes.every((a, i) => a === i)) return null;
  const C = x.shape[rank - 1];
  const rows = sizeOf(x.shape) / C;
  const {
    outs: [scratch, out],
    outValues: [sums, o],
    inValues: [xv],
  } = acc.withOutputs([[2 * C], keepDims ? x.shape.map((d, i) => (i < rank - 1 ? 1 : d)) : [C]], [x]);
  simd.colsum(xv.byteOffset, xv.byteOffset + xv.length * 4, C * 4, sums.byteOffset);
  const totals = new Float64Array(sums.buffer, sums.byteOffset, C);
  const scale = mean ? 1 / rows : 1;
  for (let c = 0; c < C; c++) o[c] = totals[c] * scale;
  acc.free(scratch);
  return out;
}

/** Tile of a channel vector [1,…,1,C] with reps [r0,…,1] (a Sum/Mean gradient broadcast back); null otherwise. */
export function channelTile(acc: TensorAccess, v: tf.TensorInfo, reps: number[]): tf.TensorInfo | null {
  const outShape = v.shape.map((d, i) => d * reps[i]);
  const full = { ...v, shape: outShape };
  if (reps[reps.length - 1] !== 1 || !isChannelVector(v, full)) return null;
  const simd = routinesFor(acc, full);
  if (!simd) return null;
  const { out } = acc.withRawOutput(outShape, 'float32', []);
  const {
    inValues: [o, vv],
  } = acc.withOutputs([], [out, v]);
  simd.fillRows(o.byteOffset, o.byteOffset + o.length * 4, v.shape[v.shape.length - 1] * 4, vv.byteOffset);
  return out;
}
