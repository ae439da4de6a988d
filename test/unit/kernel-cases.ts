// Random, reproducible cases for the fast gradient kernels (./kernels-gradients.test.ts): shapes, strides,
// dilations and paddings per kernel, run on the current backend, and the stock result to compare with.
import * as tf from '@tensorflow/tfjs';

type Pad = 'same' | 'valid' | number[][];
export interface Case {
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

export function makeCases(seed: number, count: number): Case[] {
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
export function runCase(c: Case, seed: number): Float32Array {
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
export function runReference(c: Case, seed: number): Float32Array {
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
