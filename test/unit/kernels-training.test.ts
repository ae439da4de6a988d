/**
 * Whole training steps on the wasm backend with NormScope kernels: the CNN from issue 4 (which
 * stock wasm cannot train at all) and a model using the other layers a training run commonly
 * needs (conv1d, separable/depthwise conv, strided conv, pooling, batch and layer norm).
 * Gradients are compared with the stock cpu backend for identical weights and data.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { registerFastKernels, restoreStockKernels } from '../../src/worker/kernels/index';

/** The CNN of issue 4: conv 3x3x8 + BN + relu + maxpool, conv 3x3x16 + BN + relu + maxpool, dense 10. */
function issueCnn(): tf.Sequential {
  const m = tf.sequential();
  m.add(
    tf.layers.conv2d({
      inputShape: [28, 28, 1],
      filters: 8,
      kernelSize: 3,
      padding: 'same',
      kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
    }),
  );
  m.add(tf.layers.batchNormalization());
  m.add(tf.layers.reLU());
  m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  m.add(tf.layers.conv2d({ filters: 16, kernelSize: 3, padding: 'same', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }));
  m.add(tf.layers.batchNormalization());
  m.add(tf.layers.reLU());
  m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  m.add(tf.layers.flatten());
  m.add(tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }));
  return m;
}

/** Two branches over one 15x15x3 input (odd size on purpose) that touch the remaining gradient kernels. */
function layerZoo(): tf.LayersModel {
  const seed = (s: number) => tf.initializers.glorotUniform({ seed: s });
  const input = tf.input({ shape: [15, 15, 3] });
  let a = tf.layers
    .separableConv2d({ filters: 6, kernelSize: 3, padding: 'same', depthwiseInitializer: seed(4), pointwiseInitializer: seed(5) })
    .apply(input) as tf.SymbolicTensor;
  a = tf.layers
    .depthwiseConv2d({ kernelSize: 3, strides: 2, depthMultiplier: 2, depthwiseInitializer: seed(6) })
    .apply(a) as tf.SymbolicTensor;
  a = tf.layers.conv2d({ filters: 5, kernelSize: 3, strides: 2, kernelInitializer: seed(7) }).apply(a) as tf.SymbolicTensor;
  a = tf.layers.layerNormalization().apply(a) as tf.SymbolicTensor;
  a = tf.layers.averagePooling2d({ poolSize: 2, padding: 'same' }).apply(a) as tf.SymbolicTensor;
  a = tf.layers.globalAveragePooling2d({}).apply(a) as tf.SymbolicTensor;
  let b = tf.layers.reshape({ targetShape: [75, 9] }).apply(input) as tf.SymbolicTensor;
  b = tf.layers.conv1d({ filters: 4, kernelSize: 3, strides: 2, kernelInitializer: seed(8) }).apply(b) as tf.SymbolicTensor;
  b = tf.layers.batchNormalization().apply(b) as tf.SymbolicTensor;
  b = tf.layers.maxPooling1d({ poolSize: 3 }).apply(b) as tf.SymbolicTensor;
  b = tf.layers.flatten().apply(b) as tf.SymbolicTensor;
  const merged = tf.layers.concatenate().apply([a, b]) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 4, activation: 'softmax', kernelInitializer: seed(9) }).apply(merged) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

interface Problem {
  build: () => tf.LayersModel;
  xShape: number[];
  classes: number;
}
const problems: Record<string, Problem> = {
  // Batch 8 keeps the stock cpu reference quick (batch 32 takes seconds); same layers and kernels as at batch 32.
  'issue CNN': { build: issueCnn, xShape: [8, 28, 28, 1], classes: 10 },
  'layer zoo': { build: layerZoo, xShape: [3, 15, 15, 3], classes: 4 },
};

/** Gradient of the training loss w.r.t. every trainable weight, on the current backend, for fixed weights and data. */
function gradients(p: Problem, weights: Float32Array[] | null, seed: number): { weights: Float32Array[]; grads: Float32Array[] } {
  const model = p.build();
  if (weights) model.setWeights(weights.map((w, i) => tf.tensor(w, model.getWeights()[i].shape)));
  const result = tf.tidy(() => {
    const x = tf.randomNormal(p.xShape, 0, 1, 'float32', seed);
    const labels = tf.oneHot(tf.randomUniform([p.xShape[0]], 0, p.classes, 'int32', seed) as tf.Tensor1D, p.classes);
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const { grads } = tf.variableGrads(
      () => tf.losses.softmaxCrossEntropy(labels, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
      vars,
    );
    return vars.map((v) => grads[v.name].dataSync() as Float32Array);
  });
  const out = { weights: model.getWeights().map((w) => w.dataSync() as Float32Array), grads: result };
  model.dispose();
  return out;
}

const maxAbs = (v: Float32Array) => v.reduce((m, x) => Math.max(m, Math.abs(x)), 0);

/**
 * Worst |actual - expected| over the allowed error: 1e-3 of the gradient's own magnitude plus 1e-5
 * of the model's largest gradient. The absolute part matters for a conv bias right before batch
 * norm: its true gradient is zero (BN subtracts the mean), so both backends return rounding residue.
 */
function errorOverTolerance(actual: Float32Array, expected: Float32Array, modelScale: number): number {
  const tolerance = 1e-3 * maxAbs(expected) + 1e-5 * modelScale;
  let worst = 0;
  for (let i = 0; i < actual.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
  return worst / tolerance;
}

describe('training steps with NormScope kernels', () => {
  before(async () => {
    setWasmPaths(path.join(process.cwd(), 'node_modules/@tensorflow/tfjs-backend-wasm/dist/'));
    await tf.setBackend('wasm');
    registerFastKernels('wasm');
  });
  after(() => {
    restoreStockKernels('wasm');
    restoreStockKernels('cpu');
  });

  for (const [name, problem] of Object.entries(problems)) {
    it(`${name}: gradients on wasm and on cpu with our kernels match stock cpu`, async () => {
      // Fully stock reference: our Tile/FusedBatchNorm gradients are global, so unregister from both backends.
      await tf.setBackend('cpu');
      restoreStockKernels('wasm');
      restoreStockKernels('cpu');
      const reference = gradients(problem, null, 11);
      const modelScale = Math.max(...reference.grads.map(maxAbs));
      for (const backend of ['wasm', 'cpu'] as const) {
        await tf.setBackend(backend);
        registerFastKernels(backend);
        const fast = gradients(problem, reference.weights, 11);
        assert.equal(fast.grads.length, reference.grads.length);
        fast.grads.forEach((g, i) => {
          // Batch/layer norm divide by small standard deviations, so allow float32 noise above the per-kernel 1e-4.
          const ratio = errorOverTolerance(g, reference.grads[i], modelScale);
          assert.ok(ratio <= 1, `${name} on ${backend}, weight #${i}: error is ${ratio.toFixed(2)}x the tolerance`);
        });
      }
    });
  }

  it('fused conv2d: gradients w.r.t. input, filter and bias match stock, and a first layer skips its input gradient', async () => {
    const grads = () =>
      tf.tidy(() => {
        const x = tf.randomNormal([2, 7, 6, 3], 0, 1, 'float32', 21);
        const w = tf.randomNormal([3, 3, 3, 4], 0, 1, 'float32', 22);
        const b = tf.randomNormal([4], 0, 1, 'float32', 23);
        const r = tf.randomNormal([2, 4, 3, 4], 0, 1, 'float32', 24);
        const f = (xs: tf.Tensor, ws: tf.Tensor, bs: tf.Tensor) =>
          tf.sum(tf.mul(tf.fused.conv2d({ x: xs as tf.Tensor4D, filter: ws as tf.Tensor4D, bias: bs, strides: 2, pad: 'same' }), r));
        return tf
          .grads(f as (...t: tf.Tensor[]) => tf.Tensor)([x, w, b])
          .map((g) => g.dataSync() as Float32Array);
      });
    await tf.setBackend('cpu');
    restoreStockKernels('wasm');
    restoreStockKernels('cpu');
    const stock = grads();
    await tf.setBackend('wasm');
    registerFastKernels('wasm');
    grads().forEach((g, i) => {
      const ratio = errorOverTolerance(g, stock[i], Math.max(...stock.map(maxAbs)));
      assert.ok(ratio <= 1, `gradient #${i}: error is ${ratio.toFixed(2)}x the tolerance`);
    });
    const model = issueCnn();
    model.compile({ optimizer: tf.train.sgd(0.01), loss: 'categoricalCrossentropy' });
    const x = tf.randomNormal([4, 28, 28, 1], 0, 1, 'float32', 25);
    const y = tf.oneHot(tf.tensor1d([1, 2, 3, 4], 'int32'), 10);
    const { kernels } = await tf.profile(async () => {
      await model.trainOnBatch(x, y);
    });
    const calls = (name: string) => kernels.filter((k) => k.name === name).length;
    // Two convolutions: only the second one's input gradient is needed (the first one's input is the data).
    assert.equal(calls('Conv2DBackpropInput'), 1);
    assert.equal(calls('Conv2DBackpropFilter'), 2);
    tf.dispose([x, y]);
    model.dispose();
  });

  it('issue CNN: trainOnBatch with Adam runs on wasm, lowers the loss and leaks no tensors', async () => {
    await tf.setBackend('wasm');
    const model = issueCnn();
    model.compile({ optimizer: tf.train.adam(1e-2), loss: 'categoricalCrossentropy' });
    const x = tf.randomNormal([32, 28, 28, 1], 0, 1, 'float32', 5);
    const y = tf.oneHot(tf.randomUniform([32], 0, 10, 'int32', 5) as tf.Tensor1D, 10);
    const first = (await model.trainOnBatch(x, y)) as number;
    const tensorsAfterFirst = tf.memory().numTensors;
    let last = first;
    for (let i = 0; i < 5; i++) last = (await model.trainOnBatch(x, y)) as number;
    assert.ok(Number.isFinite(first) && Number.isFinite(last), `losses ${first}, ${last}`);
    assert.ok(last < first, `loss should fall on a repeated batch: ${first} -> ${last}`);
    assert.equal(tf.memory().numTensors, tensorsAfterFirst, 'numTensors after more steps');
    tf.dispose([x, y]);
    model.dispose();
  });
});
