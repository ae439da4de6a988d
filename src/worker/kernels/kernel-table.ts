/**
 * Which implementation each backend gets. wasm: conv gradients through its own XNNPACK Conv2D
 * where the math allows, JS loops over heap views elsewhere. cpu: JS loops throughout.
 * Cases a fast kernel does not cover (NCHW, strings) go to the stock kernel when there is one.
 */
import * as tf from '@tensorflow/tfjs';
import { backpropFilterAsConv, backpropFilterGeometry, backpropFilterLoops, BackpropFilterAttrs } from './conv2d-backprop-filter';
import { backpropInputAsConv, backpropInputGeometry, backpropInputLoops, BackpropInputAttrs, canBackpropInputAsConv } from './conv2d-backprop-input';
import { isChannelsLast } from './conv-geometry';
import { depthwiseBackpropFilter, depthwiseBackpropInput, DepthwiseFilterGradAttrs, DepthwiseInputGradAttrs } from './depthwise-grads';
import { maxPoolGradByWindows, MaxPoolGradAttrs } from './max-pool-grad';
import { FastBackendName, TensorAccess, tensorAccess } from './tensor-access';
import { tileByBlocks } from './tile';
import { matMulUntransposed } from './matmul-transposed';
import { BATCH_NORM_GRAD_KERNEL, batchNormGrad } from './batch-norm-grad';
import { BinaryOp, broadcastBinary, reduceLeadingOrTrailing } from './cpu-elementwise';

type KernelArgs = Parameters<tf.KernelFunc>[0];
export type StockLookup = (kernelName: string) => tf.KernelConfig | null;

/** One fast kernel: returns a result, or `undefined` to hand this call to the stock kernel. */
type FastImpl = (acc: TensorAccess, args: KernelArgs, input: (name: string) => tf.TensorInfo) => tf.TensorInfo | tf.TensorInfo[] | undefined;

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

const numeric = (...infos: tf.TensorInfo[]) => infos.every((t) => t.dtype === 'float32' || t.dtype === 'int32' || t.dtype === 'bool');

const both: FastBackendName[] = ['wasm', 'cpu'];

const float32 = (...infos: tf.TensorInfo[]) => infos.every((t) => t.dtype === 'float32');

const binary = (op: BinaryOp) => ({ backends: ['cpu'] as FastBackendName[], impl: (): FastImpl => (acc, _args, input) => {
  const a = input('a');
  const b = input('b');
  return float32(a, b) ? broadcastBinary(acc, op, a, b) : undefined;
} });

const reduction = (mean: boolean) => ({ backends: ['cpu'] as FastBackendName[], impl: (): FastImpl => (acc, args, input) => {
  const x = input('x');
  const { axis, keepDims } = attrsOf<{ axis: number | number[]; keepDims: boolean }>(args);
  return float32(x) ? reduceLeadingOrTrailing(acc, x, axis, keepDims, mean) ?? undefined : undefined;
} });

/** Kernel name → the backends that get it and its implementation for a backend. */
const implementations: Record<string, { backends: FastBackendName[]; impl: (backend: FastBackendName) => FastImpl }> = {
  Conv2DBackpropFilter: { backends: both, impl: (backend) => (acc, args, input) => {
    const attrs = attrsOf<BackpropFilterAttrs & { dataFormat?: string }>(args);
    if (!isChannelsLast(attrs.dataFormat)) return undefined;
    const x = input('x');
    const dy = input('dy');
    const g = backpropFilterGeometry(x, attrs);
    return backend === 'wasm' ? backpropFilterAsConv(acc, x, dy, g) : backpropFilterLoops(acc, x, dy, g);
  } },
  Conv2DBackpropInput: { backends: both, impl: (backend) => (acc, args, input) => {
    const attrs = attrsOf<BackpropInputAttrs & { dataFormat?: string }>(args);
    if (!isChannelsLast(attrs.dataFormat)) return undefined;
    const dy = input('dy');
    const filter = input('filter');
    const g = backpropInputGeometry(filter, attrs);
    if (backend === 'cpu') return backpropInputLoops(acc, dy, filter, g);
    // Strided cases keep the stock wasm kernel (a C loop); stride 1 is what CNN blocks mostly use.
    return canBackpropInputAsConv(g) ? backpropInputAsConv(acc, dy, filter, g) : undefined;
  } },
  DepthwiseConv2dNativeBackpropFilter: { backends: both, impl: () => (acc, args, input) =>
    depthwiseBackpropFilter(acc, input('x'), input('dy'), attrsOf<DepthwiseFilterGradAttrs>(args)) },
  DepthwiseConv2dNativeBackpropInput: { backends: both, impl: () => (acc, args, input) =>
    depthwiseBackpropInput(acc, input('dy'), input('filter'), attrsOf<DepthwiseInputGradAttrs>(args)) },
  MaxPoolGrad: { backends: both, impl: () => (acc, args, input) =>
    maxPoolGradByWindows(acc, input('dy'), input('input'), attrsOf<MaxPoolGradAttrs>(args)) },
  Tile: { backends: both, impl: () => (acc, args, input) => {
    const x = input('x');
    return numeric(x) ? tileByBlocks(acc, x, attrsOf<{ reps: number[] }>(args).reps) : undefined;
  } },
  // Not a tfjs kernel: the fused batch-norm gradient (batch-norm-grad.ts) runs it; it has no stock fallback.
  [BATCH_NORM_GRAD_KERNEL]: { backends: both, impl: () => (acc, args, input) =>
    batchNormGrad(acc, input('dy'), input('x'), input('mean'), input('variance'), args.inputs.scale,
      attrsOf<{ varianceEpsilon: number }>(args).varianceEpsilon) },
  // Stock wasm Identity copies the data; engine clones (tensors saved for the backward pass,
  // gradients passed through) made ~40 full-size copies per CNN step. Shared refcounted data is
  // what the wasm Reshape kernel and the cpu backend already do.
  Identity: { backends: ['wasm'], impl: () => (acc, _args, input) => {
    const x = input('x');
    return x.dtype === 'string' ? undefined : acc.alias(x);
  } },
  // cpu only: the stock cpu versions index every element through coordinates (see cpu-elementwise.ts).
  Add: binary('Add'),
  Sub: binary('Sub'),
  Multiply: binary('Multiply'),
  RealDiv: binary('RealDiv'),
  Sum: reduction(false),
  Mean: reduction(true),
  BatchMatMul: { backends: ['wasm'], impl: () => (acc, args, input) => {
    const { transposeA, transposeB } = attrsOf<{ transposeA: boolean; transposeB: boolean }>(args);
    const a = input('a');
    const b = input('b');
    if (!(transposeA || transposeB) || a.dtype !== 'float32' || b.dtype !== 'float32') return undefined;
    return matMulUntransposed(acc, a, b, transposeA, transposeB);
  } },
};

export function fastKernelsFor(backend: FastBackendName, stockLookup: StockLookup): tf.KernelConfig[] {
  return Object.entries(implementations)
    .filter(([, k]) => k.backends.includes(backend))
    .map(([name, k]) => makeConfig(name, backend, stockLookup(name), k.impl(backend)));
}
