/**
 * The fused Adam update (src/worker/kernels/adam.ts) against stock tfjs Adam: same weights, same optimizer
 * state (moments, accBeta, iterations) after several steps, on wasm and on cpu, in one kernel launch per
 * step, without leaking tensors; and the stock method back after restoreStockKernels.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { registerFastKernels, restoreStockKernels } from '../../src/worker/kernels/index';
import { ADAM_KERNEL } from '../../src/worker/kernels/adam';

/**
 * Two Denses and one that the loss never reaches (null gradients). No batch norm: the bias before it has a
 * zero gradient up to rounding, which Adam amplifies into noise, and our BN gradient rounds differently.
 */
function model(): { net: tf.LayersModel; loss: (x: tf.Tensor, y: tf.Tensor) => tf.Scalar } {
  const x = tf.input({ shape: [6] });
  const h = tf.layers.dense({ units: 5, kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }).apply(x) as tf.SymbolicTensor;
  const n = tf.layers.activation({ activation: 'tanh' }).apply(h) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 3, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }).apply(n) as tf.SymbolicTensor;
  const unused = tf.layers.dense({ units: 2, kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }).apply(x) as tf.SymbolicTensor;
  const net = tf.model({ inputs: x, outputs: [out, unused] });
  const loss = (xs: tf.Tensor, ys: tf.Tensor) =>
    tf.losses.meanSquaredError(ys, (net.apply(xs, { training: true }) as tf.Tensor[])[0]) as tf.Scalar;
  return { net, loss };
}

interface Outcome {
  weights: Float32Array[];
  state: Float32Array[];
  kernelsLastStep: string[];
}

async function train(steps: number): Promise<Outcome> {
  const { net, loss } = model();
  const optimizer = tf.train.adam(0.05, 0.8, 0.95, 1e-6);
  const xs = tf.randomNormal([8, 6], 0, 1, 'float32', 4);
  const ys = tf.randomNormal([8, 3], 0, 1, 'float32', 5);
  const vars = net.trainableWeights.map((w) => w.read() as tf.Variable);
  let kernelsLastStep: string[] = [];
  let tensorsAfterFirst = 0;
  for (let i = 0; i < steps; i++) {
    const { value, grads } = tf.variableGrads(() => loss(xs, ys), vars);
    // The unused Dense's variables get no gradient at all: Adam must skip them (and keep its slots aligned).
    const withNulls = Object.fromEntries(vars.map((v) => [v.name, grads[v.name] ?? null])) as unknown as Parameters<
      tf.AdamOptimizer['applyGradients']
    >[0];
    const info = await tf.profile(() => optimizer.applyGradients(withNulls));
    kernelsLastStep = info.kernelNames;
    tf.dispose([value, ...Object.values(grads)]);
    if (i === 0) tensorsAfterFirst = tf.memory().numTensors;
  }
  assert.equal(tf.memory().numTensors, tensorsAfterFirst, 'tensors after more steps');
  const weights = net.getWeights().map((w) => w.dataSync() as Float32Array);
  const state = (await optimizer.getWeights()).map((w) => w.tensor.dataSync() as Float32Array);
  const { accBeta1, accBeta2 } = optimizer as unknown as { accBeta1: tf.Variable; accBeta2: tf.Variable };
  state.push(accBeta1.dataSync() as Float32Array, accBeta2.dataSync() as Float32Array);
  tf.dispose([xs, ys]);
  optimizer.dispose();
  net.dispose();
  return { weights, state, kernelsLastStep };
}

function assertClose(got: Float32Array[], want: Float32Array[], label: string): void {
  assert.equal(got.length, want.length, `${label}: count`);
  got.forEach((g, i) => {
    const scale = Math.max(1e-3, ...Array.from(want[i], Math.abs));
    g.forEach((v, k) => assert.ok(Math.abs(v - want[i][k]) <= 2e-5 * scale, `${label} #${i}[${k}]: ${v} vs stock ${want[i][k]}`));
  });
}

describe('fused Adam update', () => {
  before(() => setWasmPaths(path.join(process.cwd(), 'node_modules/@tensorflow/tfjs-backend-wasm/dist/')));
  after(() => {
    restoreStockKernels('wasm');
    restoreStockKernels('cpu');
  });

  for (const backend of ['wasm', 'cpu'] as const) {
    it(`${backend}: weights and optimizer state match stock Adam after 5 steps, in one kernel a step`, async () => {
      await tf.setBackend(backend);
      restoreStockKernels('wasm');
      restoreStockKernels('cpu');
      const stock = await train(5);
      assert.ok(!stock.kernelsLastStep.includes(ADAM_KERNEL));
      registerFastKernels(backend);
      const fused = await train(5);
      assert.deepEqual(fused.kernelsLastStep, [ADAM_KERNEL], `kernels of one update: ${fused.kernelsLastStep.join(', ')}`);
      assertClose(fused.weights, stock.weights, `${backend} weights`);
      assertClose(fused.state, stock.state, `${backend} optimizer state`);
    });
  }

  it('restoreStockKernels puts the stock applyGradients back', async () => {
    await tf.setBackend('cpu');
    const stockMethod = (restoreStockKernels('wasm'), restoreStockKernels('cpu'), tf.AdamOptimizer.prototype.applyGradients);
    registerFastKernels('cpu');
    assert.notEqual(tf.AdamOptimizer.prototype.applyGradients, stockMethod);
    restoreStockKernels('cpu');
    assert.equal(tf.AdamOptimizer.prototype.applyGradients, stockMethod);
  });
});
