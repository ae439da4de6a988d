/**
 * The wasm kernels that run NormScope's SIMD routines (src/worker/kernels/simd-kernels.ts, wasm-channels.ts,
 * max-pool-grad.ts, batch-norm-grad.ts) against the stock cpu kernels, at sizes that take the SIMD path (≥ 32768 elements,
 * channels a multiple of 4) and at ones that do not; MaxPoolGrad also with NaN, ±Infinity and ties. Also
 * checks that no call leaves a tensor or grows the wasm heap.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { registerFastKernels, restoreStockKernels } from '../../src/worker/kernels/index';

const drawn = new Map<string, Float32Array>();
/** Deterministic values (seeded normal, drawn once), with `special` values written at the given flat indices. */
function values(shape: number[], seed: number, special: Record<number, number> = {}): tf.Tensor {
  const key = JSON.stringify([shape, seed]);
  if (!drawn.has(key))
    drawn.set(
      key,
      tf.tidy(() => tf.randomNormal(shape, 0.3, 1.5, 'float32', seed).dataSync() as Float32Array),
    );
  const v = drawn.get(key)!.slice();
  for (const [i, x] of Object.entries(special)) v[Number(i)] = x;
  return tf.tensor(v, shape);
}

const image = [8, 28, 28, 8]; // 50176 elements: above the SIMD threshold, small enough for stock cpu
const cases: Record<string, () => tf.Tensor> = {
  'Sub x − mean[1,1,1,C]': () => tf.sub(values(image, 1), values([1, 1, 1, 8], 2)),
  'Sub v − x (vector first)': () => tf.sub(values([16], 2), values([4, 24, 24, 16], 1)),
  'Add x + bias[C]': () => tf.add(values([48, 32, 32], 1), values([32], 2)),
  'Multiply scale[1,C] · x': () => tf.mul(values([1, 12], 2), values([8, 20, 20, 12], 1)),
  'Add, channels not a multiple of 4 (stock)': () => tf.add(values([48, 30, 30], 1), values([30], 2)),
  'Tile of a channel vector [1,1,1,C]': () => tf.tile(values([1, 1, 1, 8], 20), [8, 28, 28, 1]),
  'Tile of [1,C] to rows': () => tf.tile(values([1, 64], 21), [800, 1]),
  'Tile that also repeats channels (stock form)': () => tf.tile(values([1, 1, 8], 22), [80, 80, 2]),
  'Mean over [0,1,2], keepDims': () => tf.mean(values(image, 3), [0, 1, 2], true),
  'Sum over [0,1]': () => tf.sum(values([40, 40, 24], 4), [0, 1]),
  'Mean over [1,2] (stock)': () => tf.mean(values(image, 3), [1, 2]),
  'batchNorm with scale and offset': () =>
    tf.batchNorm(values(image, 5), values([8], 6), tf.abs(values([8], 7)), values([8], 8), values([8], 9), 1e-3),
  'batchNorm without scale, rank 2': () => tf.batchNorm(values([160, 256], 5), values([256], 6), tf.abs(values([256], 7))),
  'batchNorm, a mean far from the spread (stock form)': () =>
    tf.batchNorm(tf.add(values(image, 5), 1e5), tf.fill([8], 1e5), tf.fill([8], 1e-4), undefined, undefined, 1e-6),
  'batchNorm gradient, all five inputs (NormScopeFusedBatchNormGrad)': () => {
    const w = values(image, 14);
    const f = (...t: tf.Tensor[]) => tf.sum(tf.mul(tf.batchNorm(t[0], t[1], t[2], t[3], t[4], 1e-3), w));
    const grads = tf.grads(f)([values(image, 15), values([8], 16), tf.abs(values([8], 17)), values([8], 18), values([8], 19)]);
    return tf.concat(grads.map((g) => g.flatten()));
  },
  'MaxPoolGrad 2x2 stride 2 with NaN, ±Infinity and ties': () => {
    // Pixel 0 of window 0: NaN in channel 0, -Infinity in 1, +Infinity in 2; channel 3 ties pixels 0 and 1.
    const x = values(image, 10, { 0: NaN, 1: -Infinity, 2: Infinity, 3: 5, 11: 5 });
    const y = tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid');
    return tf
      .engine()
      .runKernel('MaxPoolGrad', { dy: values(y.shape, 11), input: x, output: y }, { filterSize: 2, strides: 2, pad: 'valid' }) as tf.Tensor;
  },
  'MaxPoolGrad 2x2 stride 2, odd input (last row and column in no window)': () => {
    // Window 0 of channel 0 is all -Infinity (flat pixels 0, 1, 11, 12).
    const x = values([4, 9, 11, 8], 12, { 0: -Infinity, 8: -Infinity, 88: -Infinity, 96: -Infinity });
    const y = tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid');
    return tf
      .engine()
      .runKernel('MaxPoolGrad', { dy: values(y.shape, 13), input: x, output: y }, { filterSize: 2, strides: 2, pad: 'valid' }) as tf.Tensor;
  },
};

function same(got: Float32Array, want: Float32Array, label: string): void {
  assert.equal(got.length, want.length, `${label}: length`);
  let scale = 1;
  for (const v of want) if (Number.isFinite(v)) scale = Math.max(scale, Math.abs(v));
  for (let i = 0; i < got.length; i++) {
    const ok = Number.isNaN(want[i]) ? Number.isNaN(got[i]) : got[i] === want[i] || Math.abs(got[i] - want[i]) <= 1e-5 * scale;
    assert.ok(ok, `${label}: [${i}] ${got[i]} vs stock cpu ${want[i]}`);
  }
}

describe('wasm SIMD kernels match stock cpu', () => {
  before(() => setWasmPaths(path.join(process.cwd(), 'node_modules/@tensorflow/tfjs-backend-wasm/dist/')));

  it('every case, with no tensor left and a flat wasm heap', async () => {
    await tf.setBackend('cpu');
    restoreStockKernels('cpu');
    const expected = Object.values(cases).map((f) => tf.tidy(() => f().dataSync() as Float32Array));
    await tf.setBackend('wasm');
    registerFastKernels('wasm');
    const heap = () => (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.buffer.byteLength;
    const run = () => Object.values(cases).map((f) => tf.tidy(() => f().dataSync() as Float32Array));
    run();
    const [tensors, heapBefore] = [tf.memory().numTensors, heap()];
    for (let i = 0; i < 3; i++) run().forEach((got, k) => same(got, expected[k], Object.keys(cases)[k]));
    assert.equal(tf.memory().numTensors, tensors, 'tensors after the cases');
    assert.equal(heap(), heapBefore, 'wasm heap after three more rounds');
  });
});
