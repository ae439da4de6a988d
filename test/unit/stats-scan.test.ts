// The fast scans (JavaScript loops in chunks, WebAssembly SIMD on the wasm heap) against a plain
// reference computed element by element, at lengths around the chunk and SIMD-group boundaries.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../src/worker/backend';
import { viewFor } from '../../src/worker/instrument/meters';
import { scanActivation, scanSquaredDistance, scanSquaredNorm } from '../../src/worker/stats/scan';
import { detachMemory, kernelsFor } from '../../src/worker/stats/simd';
import { assertClose } from './close';

/** Deterministic values with exact zeros (a third), negatives and a spread of magnitudes. */
function values(n: number, seed: number): Float32Array {
  const x = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    const u = s / 2147483648;
    x[i] = u < 0.33 ? 0 : (u - 0.6) * 40 + 3;
  }
  return x;
}

function reference(x: Float32Array) {
  let sum = 0,
    min = Infinity,
    max = -Infinity,
    zeros = 0,
    squares = 0;
  for (const v of x) {
    sum += v;
    min = Math.min(min, v);
    max = Math.max(max, v);
    zeros += v === 0 ? 1 : 0;
    squares += v * v;
  }
  const mean = sum / x.length;
  let variance = 0;
  for (const v of x) variance += (v - mean) ** 2;
  return { mean, variance: variance / x.length, min, max, zeros, squares };
}

const close = (a: number, b: number, what: string) => assertClose(a, b, what, 1e-9, 'relative');

const LENGTHS = [1, 2, 3, 4, 5, 7, 8191, 8192, 8193, 20_001];

function checkAgainstReference(x: Float32Array, label: string): void {
  const r = reference(x);
  const a = scanActivation(x, 1, false, null, 0);
  close(a.mean, r.mean, `${label} mean`);
  close(a.variance, r.variance, `${label} variance`);
  assert.equal(a.min, r.min, `${label} min`);
  assert.equal(a.max, r.max, `${label} max`);
  assert.equal(a.zeros, r.zeros, `${label} zeros`);
  assert.equal(a.finite, x.length, `${label} finite`);
  close(scanSquaredNorm(x), r.squares, `${label} squared norm`);
}

test('JavaScript loops match the element-by-element reference', () => {
  for (const n of LENGTHS) checkAgainstReference(values(n, n), `n=${n}`);
});

test('squared distance of an update, and the new squared norm, in one pass', () => {
  for (const n of [1, 2, 3, 8193]) {
    const a = values(n, 3);
    const b = values(n, 4);
    let distance = 0;
    for (let i = 0; i < n; i++) distance += (a[i] - b[i]) ** 2;
    const got = scanSquaredDistance(a, b);
    close(got.distance, distance, `n=${n} distance`);
    close(got.squaredNorm, reference(a).squares, `n=${n} squared norm`);
  }
});

test('dead units: a unit is dead when no value in its column is > 0; NaN counts as alive', () => {
  // 3 rows × 4 units: unit 0 alive in the last row only, unit 1 all zero, unit 2 negative, unit 3 NaN.
  const x = new Float32Array([0, 0, -1, NaN, 0, 0, -2, 0, 5, 0, -3, 0]);
  assert.equal(scanActivation(x, 4, true, null, 0).deadUnits, 2);
  assert.equal(scanActivation(new Float32Array([1, 2, 3, 4]), 2, true, null, 0).deadUnits, 0);
});

test('a NaN makes min, max, mean and variance NaN; infinities only the moments', () => {
  const withNaN = scanActivation(new Float32Array([1, 2, NaN, 4, 5]), 1, false, null, 0);
  assert.ok([withNaN.min, withNaN.max, withNaN.mean, withNaN.variance].every(Number.isNaN));
  assert.equal(withNaN.finite, 4);
  const withInf = scanActivation(new Float32Array([1, -Infinity, 0, Infinity]), 1, false, null, 0);
  assert.equal(withInf.min, -Infinity);
  assert.equal(withInf.max, Infinity);
  assert.ok(Number.isNaN(withInf.mean));
  assert.equal(withInf.finite, 2);
  assert.equal(withInf.zeros, 1);
});

test('on the wasm backend the scans run as SIMD on the heap, with the same results', async () => {
  await selectBackend('wasm');
  try {
    const view = viewFor('wasm')!;
    for (const n of LENGTHS) {
      const t = tf.tensor1d(values(n, n + 1));
      const heap = view(t);
      assert.ok(kernelsFor(heap), 'a wasm tensor is scanned with SIMD');
      checkAgainstReference(heap, `wasm n=${n}`);
      // An update's distance, both operands on the heap (the snapshot is the old weights' buffer).
      const before = tf.tensor1d(values(n, n + 2));
      const old = view(before);
      let distance = 0;
      for (let i = 0; i < n; i++) distance += (heap[i] - old[i]) ** 2;
      const got = scanSquaredDistance(heap, old);
      close(got.distance, distance, `wasm n=${n} distance`);
      close(got.squaredNorm, reference(heap).squares, `wasm n=${n} squared norm`);
      t.dispose();
      before.dispose();
    }
    const special = tf.tensor1d([0, 3, NaN, -1, 2, Infinity, 0, 0, 1]);
    const simd = scanActivation(view(special), 1, false, null, 0);
    detachMemory();
    const js = scanActivation(view(special), 1, false, null, 0);
    assert.deepEqual(simd, js, 'NaN and infinities handled alike');
    special.dispose();
  } finally {
    detachMemory();
    await selectBackend('cpu');
  }
});
