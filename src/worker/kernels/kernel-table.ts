/**
 * Which implementation each backend gets.
 *   wasm: Conv2DBackpropFilter/Input through its own XNNPACK Conv2D or BatchMatMul, depthwise
 *         gradients as JS loops over heap views, per-channel passes (batch norm, its gradient,
 *         broadcasts, leading-axes sums, channel tiles), 2x2 max-pool gradients and Adam as SIMD,
 *         and fixes for stock kernels that are slow (transposed matmul, copying Identity/Cast) or
 *         wrong ('same'-padded convs, transposed _FusedMatMul). Kernels wasm lacks, or has wrong,
 *         run the cpu kernel (cpu-fallback.ts, registered by index.ts).
 *   cpu:  JS loops for the same gradients plus forward conv/matmul and broadcast arithmetic/reductions.
 * Cases a fast kernel does not cover (NCHW, strings, other activations) go to the stock kernel.
 */
import * as tf from '@tensorflow/tfjs';
import { backpropFilterAsConv, backpropFilterGeometry, backpropFilterLoops, BackpropFilterAttrs } from './conv2d-backprop-filter';
import {
  backpropInputAsConv,
  backpropInputGeometry,
  backpropInputLoops,
  BackpropInputAttrs,
  canBackpropInputAsConv,
} from './conv2d-backprop-input';
import { convGeometry, isChannelsLast } from './conv-geometry';
import { backpropFilterOneChannel, backpropInputOneChannel, isOneChannel } from './conv-one-channel';
import { conv2dLoops, isSimpleActivation, matMulLoops } from './cpu-forward';
import { depthwiseBackpropFilter, depthwiseBackpropInput, DepthwiseFilterGradAttrs, DepthwiseInputGradAttrs } from './depthwise-grads';
import { maxPoolGradByWindows, MaxPoolGradAttrs } from './max-pool-grad';
import { FastBackendName, TensorAccess, tensorAccess } from './tensor-access';
import { tileByBlocks } from './tile';
import { matMulTransposedB, matMulUntransposed } from './matmul-transposed';
import { BATCH_NORM_GRAD_KERNEL, batchNormGrad } from './batch-norm-grad';
import { ADAM_KERNEL, adamUpdate, type AdamAttrs } from './adam';
import { channelBatchNorm, channelBinary, channelTile, leadingAxesSum } from './wasm-channels';
import { BinaryOp, broadcastBinary, reduceLeadingOrTrailing } from './cpu-elementwise';

type KernelArgs = Parameters<tf.KernelFunc>[0];
export type StockLookup = (kernelName: string) => tf.KernelConfig | null;

/** Stock kernels by backend, filled by `fastKernelsFor` (implementations that call the stock kernel themselves read it). */
const stockKernels = new Map<string, tf.KernelConfig | null>();
const stockKernel = (kernelName: string, backend: FastBackendName) => stockKernels.get(`${backend}/${kernelName}`) ?? null;

/** One fast kernel: returns a result, or `undefined` to hand this call to the stock kernel. */
type FastImpl = (
  acc: TensorAccess,
  args: KernelArgs,
  input: (name: string) => tf.TensorInfo,
) => tf.TensorInfo | tf.TensorInfo[] | undefined;

function attrsOf<T>(args: KernelArgs): T {
  return args.attrs as unknown as T;
}

function makeConfig(kernelName: string, backend: FastBackendName, stock: tf.KernelConfig | null, impl: FastImpl): tf.KernelConfig {
  return {
    kernelName,
    backendName: backend,
    kernelFunc: (args) => {
      const input = (name: string): tf.TensorInfo => {
        const t = args.inputs[name];
        if (!t) throw new Error(`${kernelName}: missing input '${name}'`);
        return t;
      };
      const result = impl(tensorAccess(args.backend, backend), args, input);
      if (result) return result;
      if (stock) return stock.kernelFunc(args);
      throw new Error(`${kernelName} on the ${backend} backend: this case (attrs ${JSON.stringify(args.attrs)}) is not supported`);
    },
  };
}

const both: FastBackendName[] = ['wasm', 'cpu'];
const numeric = (...infos: tf.TensorInfo[]) => infos.every((t) => t.dtype === 'float32' || t.dtype === 'int32' || t.dtype === 'bool');
const float32 = (...infos: tf.TensorInfo[]) => infos.every((t) => t.dtype === 'float32');

/** cpu: JS broadcasting loops; wasm: per-channel vector cases as SIMD (wasm-channels.ts). */
const binary = (op: BinaryOp) => ({
  backends: (op === 'RealDiv' ? ['cpu'] : both) as FastBackendName[],
  impl:
    (backend: FastBackendName): FastImpl =>
    (acc, _args, input) => {
      const a = input('a');
      const b = input('b');
      if (!float32(a, b)) return undefined;
      if (backend === 'cpu') return broadcastBinary(acc, op, a, b);
      return op === 'RealDiv' ? undefined : (channelBinary(acc, op, a, b) ?? undefined);
    },
});

const reduction = (mean: boolean) => ({
  backends: both,
  impl:
    (backend: FastBackendName): FastImpl =>
    (acc, args, input) => {
      const x = input('x');
      const { axis, keepDims } = attrsOf<{ axis: number | number[]; keepDims: boolean }>(args);
      if (!float32(x)) return undefined;
      const fast = backend === 'wasm' ? leadingAxesSum(acc, x, axis, keepDims, mean) : null;
      return fast ?? reduceLeadingOrTrailing(acc, x, axis, keepDims, mean) ?? undefined;
    },
});

interface ConvAttrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat?: string;
  dilations: [number, number] | number;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  activation?: string;
}

/** A bias we can add per output channel: rank 1 with one value per channel. */
const channelBias = (bias: tf.TensorInfo | undefined, channels: number) =>
  bias === undefined || (bias.shape.length === 1 && bias.shape[0] === channels);

const cpuConv = (fused: boolean) => ({
  impl: (): FastImpl => (acc, args, input) => {
    const attrs = attrsOf<ConvAttrs>(args);
    const x = input('x');
    const filter = input('filter');
    const bias = fused ? args.inputs.bias : undefined;
    if (
      !isChannelsLast(attrs.dataFormat) ||
      !float32(x, filter) ||
      (fused && (!isSimpleActivation(attrs.activation) || args.inputs.preluActivationWeights))
    )
      return undefined;
    const g = convGeometry(x.shape, filter.shape, attrs.strides, attrs.dilations, attrs.pad, attrs.dimRoundingMode, false);
    if (!channelBias(bias, g.outC)) return undefined;
    return conv2dLoops(acc, x, filter, bias, fused && attrs.activation === 'relu', g);
  },
});

const cpuMatMul = (fused: boolean) => ({
  backends: ['cpu'] as FastBackendName[],
  impl: (): FastImpl => (acc, args, input) => {
    const { transposeA, transposeB, activation } = attrsOf<{ transposeA: boolean; transposeB: boolean; activation?: string }>(args);
    const a = input('a');
    const b = input('b');
    const bias = fused ? args.inputs.bias : undefined;
    if (!float32(a, b) || (fused && (!isSimpleActivation(activation) || args.inputs.preluActivationWeights))) return undefined;
    if (!channelBias(bias, transposeB ? b.shape[b.shape.length - 2] : b.shape[b.shape.length - 1])) return undefined;
    return matMulLoops(acc, a, b, transposeA, transposeB, bias, fused && activation === 'relu') ?? undefined;
  },
});

/** wasm matmuls with a transpose flag: transpose first, then the stock kernel (see matmul-transposed.ts). */
const wasmMatMul =
  (kernelName: string): FastImpl =>
  (acc, args, input) => {
    const { transposeA, transposeB } = attrsOf<{ transposeA: boolean; transposeB: boolean }>(args);
    const a = input('a');
    const b = input('b');
    if (!(transposeA || transposeB) || !float32(a, b)) return undefined;
    const stock = stockKernel(kernelName, 'wasm');
    if (!stock) return undefined;
    return (
      (transposeB && !transposeA ? matMulTransposedB(acc, stock, a, b) : null) ??
      matMulUntransposed(acc, stock, args, a, b, transposeA, transposeB)
    );
  };

/**
 * Stock wasm convolutions pass 'same' to XNNPACK as a flag and get a different answer from tfjs
 * when one dimension needs no padding (in > (out−1)·stride + filter, e.g. a 1x1 stride-2 'same'
 * conv on an even size, a ResNet shortcut). Passing tfjs' own padding explicitly is correct.
 */
const wasmSamePadding =
  (kernelName: string, depthwise: boolean): FastImpl =>
  (_acc, args, input) => {
    const attrs = attrsOf<ConvAttrs>(args);
    const stock = stockKernel(kernelName, 'wasm');
    if (attrs.pad !== 'same' || !stock) return undefined;
    const x = input('x');
    const filter = input('filter');
    const info = tf.backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number],
      filter.shape as [number, number, number, number],
      attrs.strides,
      attrs.dilations ?? 1, // tfjs-layers passes null for a depthwise conv without dilation
      'same',
      attrs.dimRoundingMode,
      depthwise,
      'channelsLast',
    );
    const p = info.padInfo;
    const pad = [
      [0, 0],
      [p.top, p.bottom],
      [p.left, p.right],
      [0, 0],
    ];
    const result = stock.kernelFunc({ ...args, attrs: { ...args.attrs, pad } as unknown as tf.NamedAttrMap });
    if (Array.isArray(result)) throw new Error(`${kernelName} returned several outputs`);
    return result;
  };

/** Kernel name → the backends that get it and its implementation for a backend. */
const implementations: Record<string, { backends: FastBackendName[]; impl: (backend: FastBackendName) => FastImpl }> = {
  Conv2DBackpropFilter: {
    backends: both,
    impl: (backend) => (acc, args, input) => {
      const attrs = attrsOf<BackpropFilterAttrs & { dataFormat?: string }>(args);
      if (!isChannelsLast(attrs.dataFormat)) return undefined;
      const x = input('x');
      const dy = input('dy');
      const g = backpropFilterGeometry(x, attrs);
      if (backend === 'cpu') return backpropFilterLoops(acc, x, dy, g);
      return isOneChannel(g) ? backpropFilterOneChannel(acc, x, dy, g) : backpropFilterAsConv(acc, x, dy, g);
    },
  },
  Conv2DBackpropInput: {
    backends: both,
    impl: (backend) => (acc, args, input) => {
      const attrs = attrsOf<BackpropInputAttrs & { dataFormat?: string }>(args);
      if (!isChannelsLast(attrs.dataFormat)) return undefined;
      const dy = input('dy');
      const filter = input('filter');
      const g = backpropInputGeometry(filter, attrs);
      if (backend === 'cpu') return backpropInputLoops(acc, dy, filter, g);
      if (isOneChannel(g)) return backpropInputOneChannel(acc, dy, filter, g);
      // Strided cases keep the stock wasm kernel (a C loop); stride 1 is what CNN blocks mostly use.
      return canBackpropInputAsConv(g) ? backpropInputAsConv(acc, dy, filter, g) : undefined;
    },
  },
  DepthwiseConv2dNativeBackpropFilter: {
    backends: both,
    impl: () => (acc, args, input) => depthwiseBackpropFilter(acc, input('x'), input('dy'), attrsOf<DepthwiseFilterGradAttrs>(args)),
  },
  DepthwiseConv2dNativeBackpropInput: {
    backends: both,
    impl: () => (acc, args, input) => depthwiseBackpropInput(acc, input('dy'), input('filter'), attrsOf<DepthwiseInputGradAttrs>(args)),
  },
  MaxPoolGrad: {
    backends: both,
    impl: () => (acc, args, input) => maxPoolGradByWindows(acc, input('dy'), input('input'), attrsOf<MaxPoolGradAttrs>(args)),
  },
  Tile: {
    backends: both,
    impl: (backend) => (acc, args, input) => {
      const x = input('x');
      const { reps } = attrsOf<{ reps: number[] }>(args);
      if (!numeric(x)) return undefined;
      return (backend === 'wasm' ? channelTile(acc, x, reps) : null) ?? tileByBlocks(acc, x, reps);
    },
  },
  // Not a tfjs kernel: the fused batch-norm gradient (batch-norm-grad.ts) runs it; it has no stock fallback.
  [BATCH_NORM_GRAD_KERNEL]: {
    backends: both,
    impl: () => (acc, args, input) =>
      batchNormGrad(
        acc,
        input('dy'),
        input('x'),
        input('mean'),
        input('variance'),
        args.inputs.scale,
        attrsOf<{ varianceEpsilon: number }>(args).varianceEpsilon,
      ),
  },
  FusedBatchNorm: {
    backends: ['wasm'],
    impl: () => (acc, args, input) =>
      channelBatchNorm(
        acc,
        input('x'),
        { mean: input('mean'), variance: input('variance'), offset: args.inputs.offset, scale: args.inputs.scale },
        attrsOf<{ varianceEpsilon: number }>(args).varianceEpsilon,
      ) ?? undefined,
  },
  // Not a tfjs kernel either: Adam's update of all variables at once (adam.ts).
  [ADAM_KERNEL]: {
    backends: both,
    impl: () => (acc, args) => adamUpdate(acc, args.inputs, attrsOf<AdamAttrs>(args)),
  },
  // Stock wasm Identity copies the data; engine clones (tensors saved for the backward pass,
  // gradients passed through) made ~40 full-size copies per CNN step. Shared refcounted data is
  // what the wasm Reshape kernel and the cpu backend already do.
  Identity: {
    backends: ['wasm'],
    impl: () => (acc, _args, input) => {
      const x = input('x');
      return x.dtype === 'string' ? undefined : acc.alias(x);
    },
  },
  // Stock cpu indexes every element through coordinates (cpu-elementwise.ts); stock wasm broadcasts slowly (wasm-channels.ts).
  Add: binary('Add'),
  Sub: binary('Sub'),
  Multiply: binary('Multiply'),
  RealDiv: binary('RealDiv'),
  Sum: reduction(false),
  Mean: reduction(true),
  // tf.moments casts float32 activations to float32; the stock wasm Cast copies even then.
  Cast: {
    backends: ['wasm'],
    impl: () => (acc, args, input) => {
      const x = input('x');
      return x.dtype === attrsOf<{ dtype: tf.DataType }>(args).dtype && x.dtype !== 'string' ? acc.alias(x) : undefined;
    },
  },
  Conv2D: { backends: both, impl: (backend) => (backend === 'cpu' ? cpuConv(false).impl() : wasmSamePadding('Conv2D', false)) },
  FusedConv2D: { backends: both, impl: (backend) => (backend === 'cpu' ? cpuConv(true).impl() : wasmSamePadding('FusedConv2D', false)) },
  DepthwiseConv2dNative: { backends: ['wasm'], impl: () => wasmSamePadding('DepthwiseConv2dNative', true) },
  FusedDepthwiseConv2D: { backends: ['wasm'], impl: () => wasmSamePadding('FusedDepthwiseConv2D', true) },
  BatchMatMul: { backends: ['wasm', 'cpu'], impl: (backend) => (backend === 'cpu' ? cpuMatMul(false).impl() : wasmMatMul('BatchMatMul')) },
  _FusedMatMul: { backends: ['wasm', 'cpu'], impl: (backend) => (backend === 'cpu' ? cpuMatMul(true).impl() : wasmMatMul('_FusedMatMul')) },
};

export function fastKernelsFor(backend: FastBackendName, stockLookup: StockLookup): tf.KernelConfig[] {
  return Object.entries(implementations)
    .filter(([, k]) => k.backends.includes(backend))
    .map(([name, k]) => {
      const stock = stockLookup(name);
      stockKernels.set(`${backend}/${name}`, stock);
      return makeConfig(name, backend, stock, k.impl(backend));
    });
}
