/**
 * Each NormScope kernel against the stock cpu kernel, on randomized shapes that hit the edge cases
 * (odd sizes, stride 2, dilation 2, batch 1, same/valid/explicit padding), on both the wasm backend
 * and the cpu backend with our kernels registered. Also checks that no kernel leaks tensors.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { registerFastKernels, restoreStockKernels } from '../../src/worker/kernels/index';
import { makeCases, runCase, runReference, type Case } from './kernel-cases';

function assertClose(actual: Float32Array, expected: Float32Array, label: string): void {
  assert.equal(actual.length, expected.length, `${label}: length`);
  let scale = 1;
  for (const v of expected) scale = Math.max(scale, Math.abs(v));
  let worst = 0;
  for (let i = 0; i < actual.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
  assert.ok(worst <= 1e-4 * scale, `${label}: max abs error ${worst} > ${1e-4 * scale}`);
}

const cases = makeCases(20260401, 24);
const kernelsCovered = new Set(cases.map((c) => c.kernel));

describe('NormScope gradient kernels match stock cpu kernels', () => {
  const expected: Float32Array[] = [];

  before(async () => {
    setWasmPaths(path.join(process.cwd(), 'node_modules/@tensorflow/tfjs-backend-wasm/dist/'));
    await tf.setBackend('cpu');
    restoreStockKernels('cpu');
    cases.forEach((c, i) => expected.push(runReference(c, i)));
  });
  after(() => restoreStockKernels('cpu'));

  it('the randomized cases cover every kernel, batch 1, stride 2, dilation 2 and every padding kind', () => {
    for (const k of [
      'Conv2DBackpropFilter',
      'Conv2DBackpropInput',
      'DepthwiseConv2dNativeBackpropFilter',
      'DepthwiseConv2dNativeBackpropInput',
      'MaxPoolGrad',
      'Tile',
      'BatchMatMul',
      '_FusedMatMul',
      'Conv2D',
      'FusedConv2D',
      'DepthwiseConv2dNative',
      'FusedDepthwiseConv2D',
      'Add',
      'Sub',
      'Multiply',
      'RealDiv',
      'Sum',
      'Mean',
    ]) {
      assert.ok(kernelsCovered.has(k), `no case for ${k}`);
    }
    const convLabels = cases.filter((c) => c.kernel.includes('Conv')).map((c) => c.label);
    for (const feature of ['"batch":1', '"stride":2', '"dilation":2', '"pad":"same"', '"pad":"valid"', '"pad":[[']) {
      assert.ok(
        convLabels.some((l) => l.includes(feature)),
        `no conv gradient case with ${feature}`,
      );
    }
  });

  for (const backend of ['wasm', 'cpu'] as const) {
    it(`${backend}: every case within 1e-4 of stock cpu, no leaked tensors`, async () => {
      await tf.setBackend(backend);
      const registered = registerFastKernels(backend);
      assert.ok(registered.includes('Conv2DBackpropFilter'), `registered: ${registered.join(', ')}`);
      assert.deepEqual(registerFastKernels(backend), [], 'a second registration registers nothing');
      const before = tf.memory().numTensors;
      cases.forEach((c, i) => assertClose(runCase(c, i), expected[i], `${backend} ${c.label}`));
      assert.equal(tf.memory().numTensors, before, 'tensor count after all cases');
    });
  }

  it('wasm: the issue shape x[32,14,14,8], f[3,3,8,16] with stride 2 valid padding crops correctly', async () => {
    const c: Case = {
      kernel: 'Conv2DBackpropFilter',
      inputs: { x: [32, 14, 14, 8], dy: [32, 6, 6, 16] },
      attrs: { strides: 2, pad: 'valid', dataFormat: 'NHWC', filterShape: [3, 3, 8, 16] },
      label: 'issue shape stride 2',
    };
    await tf.setBackend('wasm');
    registerFastKernels('wasm');
    const got = runCase(c, 7);
    await tf.setBackend('cpu');
    restoreStockKernels('cpu');
    assertClose(got, runCase(c, 7), c.label);
  });

  it('the Tile, Sum and Mean gradients match the stock ones', async () => {
    type GradCase = { label: string; xShape: number[]; f: (x: tf.Tensor) => tf.Tensor };
    const tileCases: [number[], number[]][] = [
      [[3], [4]],
      [
        [32, 1],
        [1, 128],
      ],
      [
        [1, 5],
        [7, 1],
      ],
      [
        [2, 1, 3],
        [2, 3, 1],
      ],
      [
        [1, 1, 1, 8],
        [2, 3, 3, 1],
      ],
    ];
    const reduceCases: [number[], number | number[], boolean][] = [
      [[6], 0, false],
      [[4, 5], 1, true],
      [[2, 3, 4, 5], [0, 1, 2], false],
      [[2, 3, 4], [0, 2], true],
      [[3, 4], -1, false],
    ];
    const gradCases: GradCase[] = [
      ...tileCases.map(([s, r]) => ({ label: `tile ${JSON.stringify([s, r])}`, xShape: s, f: (x: tf.Tensor) => tf.tile(x, r) })),
      ...reduceCases.flatMap(([s, axis, keep]) => [
        { label: `sum ${JSON.stringify([s, axis, keep])}`, xShape: s, f: (x: tf.Tensor) => tf.sum(x, axis, keep) },
        { label: `mean ${JSON.stringify([s, axis, keep])}`, xShape: s, f: (x: tf.Tensor) => tf.mean(x, axis, keep) },
      ]),
    ];
    // Weight the output randomly so that every element of the gradient differs.
    const gradOf = (c: GradCase): Float32Array =>
      tf.tidy(() => {
        const x = tf.randomNormal(c.xShape, 0, 1, 'float32', 1);
        const w = tf.randomNormal(c.f(x).shape, 0, 1, 'float32', 2);
        return tf
          .grad((t: tf.Tensor) => tf.sum(tf.mul(c.f(t), w)))(x)
          .dataSync() as Float32Array;
      });
    await tf.setBackend('cpu');
    restoreStockKernels('wasm');
    restoreStockKernels('cpu');
    const expected = gradCases.map(gradOf);
    for (const backend of ['cpu', 'wasm'] as const) {
      await tf.setBackend(backend);
      registerFastKernels(backend);
      const before = tf.memory().numTensors;
      gradCases.forEach((c, i) => assertClose(gradOf(c), expected[i], `${backend} ${c.label} gradient`));
      assert.equal(tf.memory().numTensors, before);
    }
  });

  it('the fused FusedBatchNorm gradient matches the stock one (all five inputs)', async () => {
    const shapes = [
      [4, 6],
      [2, 5, 3, 7],
      [1, 3, 3, 2],
    ];
    // (tfjs 4.22 cannot differentiate tf.batchNorm without a scale: it saves the missing input.)
    const gradsOf = (shape: number[]): Float32Array[] =>
      tf.tidy(() => {
        const C = shape[shape.length - 1];
        const x = tf.randomNormal(shape, 0.5, 2, 'float32', 3);
        const w = tf.randomNormal(shape, 0, 1, 'float32', 4);
        const mean = tf.randomNormal([C], 0, 1, 'float32', 5);
        const variance = tf.randomUniform([C], 0.1, 2, 'float32', 6);
        const offset = tf.randomNormal([C], 0, 1, 'float32', 7);
        const scale = tf.randomNormal([C], 1, 0.5, 'float32', 8);
        const inputs = [x, mean, variance, offset, scale];
        const f = (...t: tf.Tensor[]) => tf.sum(tf.mul(tf.batchNorm(t[0], t[1], t[2], t[3], t[4], 1e-3), w));
        return tf
          .grads(f)(inputs)
          .map((g) => g.dataSync() as Float32Array);
      });
    await tf.setBackend('cpu');
    restoreStockKernels('wasm');
    restoreStockKernels('cpu');
    const expected = shapes.map((s) => gradsOf(s));
    for (const backend of ['cpu', 'wasm'] as const) {
      await tf.setBackend(backend);
      assert.ok(registerFastKernels(backend).includes('NormScopeFusedBatchNormGrad'));
      const before = tf.memory().numTensors;
      shapes.forEach((s, i) =>
        gradsOf(s).forEach((g, j) => assertClose(g, expected[i][j], `${backend} batchNorm grad #${j} ${JSON.stringify(s)}`)),
      );
      assert.equal(tf.memory().numTensors, before);
    }
  });

  it('wasm: conv gradients through XNNPACK free their packed operators (heap stays flat), Identity shares data safely', async () => {
    await tf.setBackend('wasm');
    registerFastKernels('wasm');
    const heap = () => (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.buffer.byteLength;
    const x = tf.randomNormal([8, 14, 14, 8], 0, 1, 'float32', 1);
    const dy = tf.randomNormal([8, 14, 14, 16], 0, 1, 'float32', 2);
    const f = tf.randomNormal([3, 3, 8, 16], 0, 1, 'float32', 3);
    const conv = { strides: 1, pad: 'same', dataFormat: 'NHWC' };
    const step = () =>
      tf.tidy(() => {
        (tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { ...conv, filterShape: [3, 3, 8, 16] }) as tf.Tensor).dataSync();
        (tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: f }, { ...conv, inputShape: [8, 14, 14, 8] }) as tf.Tensor).dataSync();
      });
    for (let i = 0; i < 10; i++) step();
    const heapBefore = heap();
    const tensorsBefore = tf.memory().numTensors;
    for (let i = 0; i < 150; i++) step();
    assert.equal(heap(), heapBefore, 'wasm heap size after 150 more gradient calls');
    assert.equal(tf.memory().numTensors, tensorsBefore);

    const original = tf.tensor([1, 2, 3]);
    const copy = tf.clone(original);
    original.dispose();
    assert.deepEqual(Array.from(copy.dataSync()), [1, 2, 3], 'a clone outlives its original');
    copy.dispose();
    tf.dispose([x, dy, f]);
  });

  it('restoreStockKernels puts the stock kernel (and, with the last backend, the engine clone) back', async () => {
    await tf.setBackend('cpu');
    restoreStockKernels('wasm');
    restoreStockKernels('cpu');
    const engine = tf.engine() as unknown as { clone: unknown };
    const stockClone = engine.clone;
    registerFastKernels('cpu');
    assert.notEqual(engine.clone, stockClone, 'a cheaper clone while our kernels are registered');
    const fast = tf.getKernel('Conv2DBackpropFilter', 'cpu');
    assert.ok(restoreStockKernels('cpu').includes('Conv2DBackpropFilter'));
    assert.notEqual(tf.getKernel('Conv2DBackpropFilter', 'cpu')?.kernelFunc, fast?.kernelFunc);
    assert.equal(engine.clone, stockClone);
  });
});
