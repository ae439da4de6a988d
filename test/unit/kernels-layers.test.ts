/**
 * Every tf.layers layer class trains on the wasm backend with NormScope's kernels: three SGD steps of a small
 * model around each layer (./layer-cases.ts) give the same losses and weights as stock tfjs on cpu. Layers
 * that draw random numbers (dropout, noise, RandomWidth) draw the same ones on both backends: tfjs seeds its
 * unseeded random ops from Math.random, which each run replaces with the same seeded sequence.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { registerFastKernels, restoreStockKernels } from '../../src/worker/kernels/index';
import { kernelsMissingOn, WRONG_ON_WASM } from '../../src/worker/kernels/cpu-fallback';
import { layerCases, registeredLayerClasses, type LayerCase } from './layer-cases';
import { FIXTURES, runCheckCommand } from './engine-fixtures';

const BATCH = 4;
const STEPS = 3;

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Runs `body` with Math.random replaced by a seeded sequence (restored even when it throws). */
async function withSeededRandom<T>(seed: number, body: () => Promise<T>): Promise<T> {
  const original = Math.random;
  Math.random = lcg(seed);
  try {
    return await body();
  } finally {
    Math.random = original;
  }
}

function buildModel(c: LayerCase): tf.LayersModel {
  const x = tf.input({ shape: c.input, dtype: c.ints ? 'int32' : 'float32' });
  const front = c.ints || c.raw ? x : (tf.layers.dense({ units: c.input[c.input.length - 1] }).apply(x) as tf.SymbolicTensor);
  let y = c.build(front);
  if (y.shape.length > 2) y = tf.layers.flatten().apply(y) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 2 }).apply(y) as tf.SymbolicTensor;
  return tf.model({ inputs: x, outputs: out });
}

/** Inputs and targets from a JS generator, identical on every backend. */
function data(c: LayerCase, outUnits: number): { x: tf.Tensor; y: tf.Tensor } {
  const rand = lcg(7);
  const shape = [BATCH, ...c.input];
  const n = shape.reduce((a, b) => a * b, 1);
  const values = Array.from({ length: n }, () => (c.ints ? Math.floor(rand() * c.ints) : rand() * 2 - 1));
  if (c.maskedSteps) {
    const step = c.input.slice(1).reduce((a, b) => a * b, 1);
    const perExample = n / BATCH;
    for (let b = 1; b < BATCH; b += 2) values.fill(0, (b + 1) * perExample - step, (b + 1) * perExample);
  }
  const x = tf.tensor(values, shape, c.ints ? 'int32' : 'float32');
  const y = tf.tensor(
    Array.from({ length: BATCH * outUnits }, () => rand() * 2 - 1),
    [BATCH, outUnits],
  );
  return { x, y };
}

interface Trained {
  losses: number[];
  weights: Float32Array[];
  leaked: number;
}

async function train(c: LayerCase, initial: tf.Tensor[] | null): Promise<Trained & { initial: tf.Tensor[] }> {
  return withSeededRandom(1234, async () => {
    const before = tf.memory().numTensors;
    const model = buildModel(c);
    if (initial) model.setWeights(initial);
    const start = model.getWeights().map((w) => tf.tensor(w.dataSync(), w.shape, w.dtype));
    const optimizer = tf.train.sgd(0.1);
    model.compile({ optimizer, loss: 'meanSquaredError' });
    const { x, y } = data(c, 2);
    const losses: number[] = [];
    for (let i = 0; i < STEPS; i++) losses.push((await model.trainOnBatch(x, y)) as number);
    const weights = model.getWeights().map((w) => w.dataSync() as Float32Array);
    tf.dispose([x, y]);
    model.dispose();
    optimizer.dispose();
    // `start` is handed to the caller (and counted); everything else must be gone.
    return { losses, weights, initial: start, leaked: tf.memory().numTensors - before - start.length };
  });
}

const maxAbs = (v: Float32Array) => v.reduce((m, x) => Math.max(m, Math.abs(x)), 0);

/**
 * Relative tolerance 1e-4, of each loss and of each weight tensor's largest value (plus 1e-6 absolute, for
 * weights that stay near zero, like a bias before batch norm). Both backends round in float32 (eps 6e-8) but
 * sum in different orders; after three steps through norms and recurrences the largest difference measured
 * in these cases was 1.1e-6 relative, while a wrong gradient of any layer moves the weights after the first
 * step (lr 0.1) by far more than 1e-4 (the wrong stock kernels below were off by 1e-2 to 1e2).
 */
const RELATIVE = 1e-4;

/** Calls that show each stock wasm kernel in WRONG_ON_WASM wrong (and ours right). */
const wrongCases: Record<string, () => tf.Tensor> = {
  Conv3DBackpropInputV2: () =>
    tf
      .engine()
      .runKernel(
        'Conv3DBackpropInputV2',
        { dy: tf.randomNormal([2, 4, 4, 4, 3], 0, 1, 'float32', 1), filter: tf.randomNormal([2, 2, 2, 2, 3], 0, 1, 'float32', 2) },
        { pad: 'same', strides: [1, 1, 1], inputShape: [2, 4, 4, 4, 2] },
      ) as tf.Tensor,
  // All-negative windows: the stock kernels start the max at FLT_MIN.
  MaxPool3D: () => tf.maxPool3d(tf.neg(tf.abs(tf.randomNormal([1, 4, 4, 4, 1], 0, 1, 'float32', 3))) as tf.Tensor5D, 2, 2, 'valid'),
  MaxPool3DGrad: () => {
    const input = tf.neg(tf.abs(tf.randomNormal([1, 4, 4, 4, 1], 0, 1, 'float32', 3)));
    const dy = tf.randomNormal([1, 2, 2, 2, 1], 0, 1, 'float32', 4);
    return tf.engine().runKernel('MaxPool3DGrad', { dy, input, output: dy }, { filterSize: 2, strides: 2, pad: 'valid' }) as tf.Tensor;
  },
  MaxPoolWithArgmax: () =>
    tf.maxPoolWithArgmax(tf.neg(tf.abs(tf.randomNormal([1, 4, 4, 2], 0, 1, 'float32', 5))) as tf.Tensor4D, 2, 2, 'valid').result,
  ResizeNearestNeighborGrad: () =>
    tf
      .engine()
      .runKernel(
        'ResizeNearestNeighborGrad',
        { images: tf.zeros([2, 3, 3, 2]), dy: tf.randomNormal([2, 6, 6, 2], 0, 1, 'float32', 6) },
        { alignCorners: false, halfPixelCenters: false },
      ) as tf.Tensor,
};

function worstDifference(a: Float32Array, b: Float32Array): number {
  let worst = a.length === b.length ? 0 : Infinity;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

function compare(c: LayerCase, got: Trained, want: Trained, backend: string): void {
  const label = `${c.name} on ${backend}`;
  got.losses.forEach((loss, i) => {
    const expected = want.losses[i];
    assert.ok(Number.isFinite(loss), `${label}: loss ${i} is ${loss}`);
    assert.ok(Math.abs(loss - expected) <= RELATIVE * Math.abs(expected) + 1e-6, `${label}: loss ${i} ${loss} vs cpu ${expected}`);
  });
  assert.equal(got.weights.length, want.weights.length, `${label}: number of weights`);
  got.weights.forEach((w, i) => {
    const tolerance = RELATIVE * maxAbs(want.weights[i]) + 1e-6;
    let worst = 0;
    for (let k = 0; k < w.length; k++) worst = Math.max(worst, Math.abs(w[k] - want.weights[i][k]));
    assert.ok(worst <= tolerance, `${label}: weight #${i} differs by ${worst} (tolerance ${tolerance})`);
  });
  assert.equal(got.leaked, 0, `${label}: tensors left after training`);
}

describe('every tf.layers layer class trains on wasm as on stock cpu', () => {
  before(() => setWasmPaths(path.join(process.cwd(), 'node_modules/@tensorflow/tfjs-backend-wasm/dist/')));
  after(() => {
    restoreStockKernels('wasm');
    restoreStockKernels('cpu');
  });

  it('the cases cover every Layer class tfjs registers', () => {
    const covered = new Set(layerCases.flatMap((c) => [c.name, ...(c.covers ?? [])]));
    const missing = registeredLayerClasses().filter((name) => !covered.has(name));
    assert.deepEqual(missing, [], `layer classes without a case in test/unit/layer-cases.ts: ${missing.join(', ')}`);
  });

  it('after registration wasm has every kernel the cpu backend has (but complex numbers and drawing)', async () => {
    await tf.setBackend('wasm');
    restoreStockKernels('wasm');
    const before = kernelsMissingOn('wasm');
    assert.ok(before.includes('UnsortedSegmentSum'), `stock wasm lacks UnsortedSegmentSum (the gather gradient): ${before.join(', ')}`);
    registerFastKernels('wasm');
    assert.deepEqual(kernelsMissingOn('wasm'), []);
  });

  it('each stock wasm kernel replaced as wrong is wrong, and its replacement matches cpu', async () => {
    assert.deepEqual(Object.keys(wrongCases).sort(), [...WRONG_ON_WASM].sort());
    const run = (f: () => tf.Tensor) => tf.tidy(() => f().dataSync() as Float32Array);
    await tf.setBackend('cpu');
    restoreStockKernels('cpu');
    const expected = Object.values(wrongCases).map(run);
    await tf.setBackend('wasm');
    restoreStockKernels('wasm');
    const stock = Object.values(wrongCases).map(run);
    registerFastKernels('wasm');
    const ours = Object.values(wrongCases).map(run);
    Object.keys(wrongCases).forEach((name, i) => {
      assert.ok(worstDifference(stock[i], expected[i]) > 1e-3, `${name}: stock wasm is right here, so it need not be replaced`);
      assert.ok(
        worstDifference(ours[i], expected[i]) <= 1e-5,
        `${name}: ours differs from cpu by ${worstDifference(ours[i], expected[i])}`,
      );
    });
  });

  for (const c of layerCases) {
    it(`${c.name}: ${STEPS} training steps on wasm (and on cpu with our kernels) match stock cpu`, async () => {
      await tf.setBackend('cpu');
      restoreStockKernels('wasm');
      restoreStockKernels('cpu');
      if (c.stockCannotTrain) {
        await assert.rejects(train(c, null), c.stockCannotTrain, 'stock cpu');
        await tf.setBackend('wasm');
        registerFastKernels('wasm');
        await assert.rejects(train(c, null), c.stockCannotTrain, 'wasm fails as stock cpu does, not otherwise');
        return;
      }
      const reference = await train(c, null);
      try {
        for (const backend of ['wasm', 'cpu'] as const) {
          await tf.setBackend(backend);
          registerFastKernels(backend);
          compare(c, await train(c, reference.initial), reference, backend);
        }
      } finally {
        tf.dispose(reference.initial);
      }
    });
  }
});

describe('a real model with Embedding layers trains on wasm through `normscope check`', () => {
  it("tfjs-examples' date-conversion-attention (embeddings, LSTMs with initial state, attention dots)", async () => {
    const file = path.join(path.dirname(FIXTURES), 'real-models/date-conversion-attention/model.js');
    // createModel(INPUT_VOCAB.length, OUTPUT_VOCAB.length, INPUT_LENGTH, OUTPUT_LENGTH) as its train.js calls it.
    const args = ['--model', 'createModel', '--args', '[35, 13, 12, 10]', '--steps', '2', '--backend', 'wasm', '--json'];
    const { code, stdout, stderr } = await runCheckCommand([file, ...args]);
    assert.equal(code, 0, stderr);
    const report = JSON.parse(stdout) as { backend: string; loss: number[]; layers: { className: string }[] };
    assert.equal(report.backend, 'wasm');
    assert.equal(report.layers.filter((l) => l.className === 'Embedding').length, 2);
    assert.equal(report.loss.length, 2);
    assert.ok(report.loss.every(Number.isFinite), `losses ${report.loss.join(', ')}`);
  });
});
