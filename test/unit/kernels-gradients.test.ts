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

type Pad = 'same' | 'valid' | number[][];
interface Case {
  kernel: string;
  inputs: Record<string, number[]>;
  attrs: Record<string, unknown>;
  label: string;
}

/** Deterministic so that a failing case is reproducible from its label. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function randomTensor(shape: number[], rand: () => number, reluLike = false): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const r = rand() * 2 - 1;
    v[i] = reluLike && r < 0 ? 0 : r;
  }
  return tf.tensor(v, shape);
}

function makeCases(seed: number, count: number): Case[] {
  const rand = rng(seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)];
  const cases: Case[] = [];
  for (let i = 0; i < count; i++) {
    const batch = pick([1, 2, 3]);
    const [h, w] = [pick([5, 6, 7, 9]), pick([5, 7, 8])];
    const [fh, fw] = [pick([1, 2, 3]), pick([2, 3])];
    const inC = pick([1, 3, 4]);
    const stride = pick([1, 2]);
    const dilation = stride === 1 ? pick([1, 2]) : 1; // tfjs rejects stride > 1 together with dilation > 1
    const pad: Pad = pick<Pad>([
      'same',
      'valid',
      [
        [0, 0],
        [1, 0],
        [2, 1],
        [0, 0],
      ],
    ]);
    const dims = { h, w, inC, fh, fw, stride, dilation, pad };
    // Conv2D gradients in tfjs only accept dilation 1; the depthwise ones take dilations too.
    const convOut = outShape([batch, h, w, inC], [fh, fw], stride, 1, pad);
    const outC = pick([2, 5]);
    if (convOut) {
      const dy = [...convOut, outC];
      const conv = { strides: stride, pad, dataFormat: 'NHWC' };
      cases.push({
        kernel: 'Conv2DBackpropFilter',
        inputs: { x: [batch, h, w, inC], dy },
        attrs: { ...conv, filterShape: [fh, fw, inC, outC] },
        label: `bpf ${JSON.stringify({ batch, ...dims, outC })}`,
      });
      cases.push({
        kernel: 'Conv2DBackpropInput',
        inputs: { dy, filter: [fh, fw, inC, outC] },
        attrs: { ...conv, inputShape: [batch, h, w, inC] },
        label: `bpi ${JSON.stringify({ batch, ...dims, outC })}`,
      });
    }
    const fwdOut = outShape([batch, h, w, inC], [fh, fw], stride, dilation, pad);
    if (fwdOut) {
      const fwd = { strides: stride, pad, dataFormat: 'NHWC', dilations: dilation };
      cases.push({
        kernel: 'Conv2D',
        inputs: { x: [batch, h, w, inC], filter: [fh, fw, inC, outC] },
        attrs: fwd,
        label: `conv ${JSON.stringify({ batch, ...dims, outC })}`,
      });
      const activation = pick(['relu', 'linear']);
      cases.push({
        kernel: 'FusedConv2D',
        inputs: { x: [batch, h, w, inC], filter: [fh, fw, inC, outC], bias: [outC] },
        attrs: { ...fwd, activation },
        label: `fused conv ${JSON.stringify({ batch, ...dims, outC, activation })}`,
      });
    }
    const dwOut = outShape([batch, h, w, inC], [fh, fw], stride, dilation, pad);
    const mult = pick([1, 2]);
    if (dwOut) {
      const dy = [...dwOut, inC * mult];
      const fwd = { strides: stride, pad, dataFormat: 'NHWC', dilations: dilation };
      cases.push({
        kernel: 'DepthwiseConv2dNative',
        inputs: { x: [batch, h, w, inC], filter: [fh, fw, inC, mult] },
        attrs: fwd,
        label: `dw conv ${JSON.stringify({ batch, ...dims, mult })}`,
      });
      cases.push({
        kernel: 'FusedDepthwiseConv2D',
        inputs: { x: [batch, h, w, inC], filter: [fh, fw, inC, mult], bias: [inC * mult] },
        attrs: { ...fwd, activation: 'relu' },
        label: `fused dw conv ${JSON.stringify({ batch, ...dims, mult })}`,
      });
      const dw = { strides: stride, dilations: dilation, pad };
      cases.push({
        kernel: 'DepthwiseConv2dNativeBackpropFilter',
        inputs: { x: [batch, h, w, inC], dy },
        attrs: { ...dw, filterShape: [fh, fw, inC, mult] },
        label: `dw-bpf ${JSON.stringify({ batch, ...dims, mult })}`,
      });
      cases.push({
        kernel: 'DepthwiseConv2dNativeBackpropInput',
        inputs: { dy, filter: [fh, fw, inC, mult] },
        attrs: { ...dw, inputShape: [batch, h, w, inC] },
        label: `dw-bpi ${JSON.stringify({ batch, ...dims, mult })}`,
      });
    }
    const poolPad = typeof pad === 'string' ? pad : 'valid';
    const poolOut = outShape([batch, h, w, inC], [fh, fw], stride, 1, poolPad);
    if (poolOut) {
      cases.push({
        kernel: 'MaxPoolGrad',
        inputs: { dy: [...poolOut, inC], input: [batch, h, w, inC] },
        attrs: { filterSize: [fh, fw], strides: stride, pad: poolPad },
        label: `maxpool ${JSON.stringify({ batch, ...dims, pad: poolPad })}`,
      });
    }
    const rank = pick([1, 2, 3, 4]);
    const tileIn = [batch, h, inC, 1].slice(4 - rank);
    const reps = tileIn.map(() => pick([1, 2, 3]));
    cases.push({ kernel: 'Tile', inputs: { x: tileIn }, attrs: { reps }, label: `tile ${JSON.stringify({ tileIn, reps })}` });
    // Broadcasting arithmetic and reductions (fast paths on cpu): some dims 1 on either side, ranks differ.
    const full = [batch, h, w, inC].slice(4 - rank);
    const aShape = full.map((d) => (rand() < 0.3 ? 1 : d));
    const bShape = full.map((d, i) => (aShape[i] === 1 || rand() < 0.5 ? d : 1)).slice(pick([0, 0, 1]));
    const op = pick(['Add', 'Sub', 'Multiply', 'RealDiv']);
    cases.push({ kernel: op, inputs: { a: aShape, b: bShape }, attrs: {}, label: `${op} ${JSON.stringify([aShape, bShape])}` });
    const axis = pick([[0], full.map((_, i) => i).slice(0, -1), [full.length - 1], [-1], full.length > 2 ? [1] : [0]]);
    const reduce = pick(['Sum', 'Mean']);
    cases.push({
      kernel: reduce,
      inputs: { x: full },
      attrs: { axis, keepDims: pick([true, false]) },
      label: `${reduce} ${JSON.stringify([full, axis])}`,
    });
    // Dense-layer gradients multiply with one operand transposed; batch dims may broadcast.
    const [m, k, n] = [pick([1, 5, 32]), pick([3, 17]), pick([1, 7, 10])];
    const [transposeA, transposeB] = [pick([true, false]), pick([true, false])];
    const [batchA, batchB] = pick([
      [[], []],
      [[2], [2]],
      [[1], [3]],
      [[3], [1]],
    ]);
    cases.push({
      kernel: 'BatchMatMul',
      inputs: { a: [...batchA, ...(transposeA ? [k, m] : [m, k])], b: [...batchB, ...(transposeB ? [n, k] : [k, n])] },
      attrs: { transposeA, transposeB },
      label: `matmul ${JSON.stringify({ batchA, batchB, m, k, n, transposeA, transposeB })}`,
    });
    const activation = pick(['relu', 'linear']);
    cases.push({
      kernel: '_FusedMatMul',
      inputs: { a: [1, ...(transposeA ? [k, m] : [m, k])], b: [1, ...(transposeB ? [n, k] : [k, n])], bias: [n] },
      attrs: { transposeA, transposeB, activation },
      label: `fused matmul ${JSON.stringify({ m, k, n, transposeA, transposeB, activation })}`,
    });
  }
  return cases;
}

/** Output spatial shape [n, oh, ow], or null when the filter does not fit. */
function outShape(x: number[], f: number[], stride: number, dilation: number, pad: Pad): number[] | null {
  const info = tf.backend_util.computeConv2DInfo(
    x as [number, number, number, number],
    [f[0], f[1], x[3], 1],
    stride,
    dilation,
    pad as 'same',
    undefined,
    false,
    'channelsLast',
  );
  return info.outHeight > 0 && info.outWidth > 0 ? [x[0], info.outHeight, info.outWidth] : null;
}

/** Runs one case on the current backend with inputs drawn from `seed`; returns the result's values. */
function runCase(c: Case, seed: number): Float32Array {
  const rand = rng(seed);
  return tf.tidy(() => {
    const inputs: Record<string, tf.Tensor> = {};
    for (const [name, shape] of Object.entries(c.inputs)) inputs[name] = randomTensor(shape, rand, name === 'x');
    // MaxPoolGrad also takes the pooled output (unused by both implementations, but part of the signature).
    if (c.kernel === 'MaxPoolGrad')
      inputs.output = tf.maxPool(
        inputs.input as tf.Tensor4D,
        c.attrs.filterSize as [number, number],
        c.attrs.strides as number,
        c.attrs.pad as 'same',
      );
    const out = tf.engine().runKernel(c.kernel, inputs as tf.NamedTensorMap, c.attrs as tf.NamedAttrMap) as tf.Tensor;
    return out.dataSync() as Float32Array;
  });
}

/**
 * Stock result to compare with. The stock depthwise gradient kernels ignore `dilations` (tfjs never
 * differentiates dilated depthwise convs), so for dilation d the reference runs them with the
 * equivalent undilated filter of size (k-1)·d+1 that has zeros between the taps.
 */
function runReference(c: Case, seed: number): Float32Array {
  const d = c.attrs.dilations as number | undefined;
  if (!c.kernel.startsWith('DepthwiseConv2dNativeBackprop') || !d || d === 1) return runCase(c, seed);
  const rand = rng(seed);
  return tf.tidy(() => {
    const inputs: Record<string, tf.Tensor> = {};
    for (const [name, shape] of Object.entries(c.inputs)) inputs[name] = randomTensor(shape, rand, name === 'x');
    const attrs = { ...c.attrs, dilations: 1 };
    if (c.kernel === 'DepthwiseConv2dNativeBackpropInput') {
      const [fh, fw, ch, m] = inputs.filter.shape;
      const dilated = tf.buffer([(fh - 1) * d + 1, (fw - 1) * d + 1, ch, m]);
      const f = inputs.filter.arraySync() as number[][][][];
      for (let i = 0; i < fh; i++)
        for (let j = 0; j < fw; j++)
          for (let k = 0; k < ch; k++) for (let q = 0; q < m; q++) dilated.set(f[i][j][k][q], i * d, j * d, k, q);
      const out = tf.engine().runKernel(c.kernel, { dy: inputs.dy, filter: dilated.toTensor() }, attrs as tf.NamedAttrMap) as tf.Tensor;
      return out.dataSync() as Float32Array;
    }
    const [fh, fw, ch, m] = c.attrs.filterShape as number[];
    const wide = tf
      .engine()
      .runKernel(
        c.kernel,
        inputs as tf.NamedTensorMap,
        { ...attrs, filterShape: [(fh - 1) * d + 1, (fw - 1) * d + 1, ch, m] } as tf.NamedAttrMap,
      ) as tf.Tensor4D;
    return tf.stridedSlice(wide, [0, 0, 0, 0], wide.shape, [d, d, 1, 1]).dataSync() as Float32Array;
  });
}

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

  it('restoreStockKernels puts the stock kernel back', async () => {
    await tf.setBackend('cpu');
    registerFastKernels('cpu');
    const fast = tf.getKernel('Conv2DBackpropFilter', 'cpu');
    assert.ok(restoreStockKernels('cpu').includes('Conv2DBackpropFilter'));
    assert.notEqual(tf.getKernel('Conv2DBackpropFilter', 'cpu')?.kernelFunc, fast?.kernelFunc);
  });
});
