/**
 * Tile by block copies. The batch-norm gradient tiles per-channel vectors [1,1,1,C] to the full
 * activation shape; the stock wasm Tile does this element by element (~13 ms for 200k floats).
 * Here each input row is copied once and then doubled in place with copyWithin.
 */
import * as tf from '@tensorflow/tfjs';
import { TensorAccess } from './tensor-access';

export function tileByBlocks(acc: TensorAccess, x: tf.TensorInfo, reps: number[]): tf.TensorInfo {
  const rank = x.shape.length;
  if (reps.length !== rank) throw new Error(`Tile: reps has ${reps.length} entries but the input has rank ${rank}`);
  const outShape = x.shape.map((d, i) => d * reps[i]);
  const {
    out,
    outValues: o,
    inValues: [v],
  } = acc.withRawOutput(outShape, x.dtype, [x]);
  if (o.length === 0) return out;
  if (rank === 0) {
    o[0] = v[0];
    return out;
  }
  // Element strides of each dimension in the input and the output.
  const inStride = new Array<number>(rank);
  const outStride = new Array<number>(rank);
  inStride[rank - 1] = 1;
  outStride[rank - 1] = 1;
  for (let d = rank - 2; d >= 0; d--) {
    inStride[d] = inStride[d + 1] * x.shape[d + 1];
    outStride[d] = outStride[d + 1] * outShape[d + 1];
  }
  const fill = (d: number, inOff: number, outOff: number): void => {
    const n = x.shape[d];
    if (d === rank - 1) o.set(v.subarray(inOff, inOff + n), outOff);
    else for (let i = 0; i < n; i++) fill(d + 1, inOff + i * inStride[d], outOff + i * outStride[d]);
    // The first copy of this dimension's block is done; repeat it, doubling the copied span.
    const block = n * outStride[d];
    const total = block * reps[d];
    for (let done = block; done < total; done *= 2) o.copyWithin(outOff + done, outOff, outOff + Math.min(done, total - done));
  };
  fill(0, 0, 0);
  return out;
}
