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

type KernelArgs = Parameters<tf.KernelFunc>[0];
export type StockLookup = (kernelName: string) => tf.KernelConfig | null;

/** One fast kernel: returns a result, or `undefined` to hand this call to the stock kernel. */
type FastImpl = (acc: TensorAccess, args: KernelArgs, input: (name: string) => tf.TensorInfo) => tf.TensorInfo | undefined;

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

const implementations: Record<string, (backend: FastBackendName) => FastImpl> = {
  Conv2DBackpropFilter: (backend) => (acc, args, input) => {
    const attrs = attrsOf<BackpropFilterAttrs & { dataFormat?: string }>(args);
    if (!isChannelsLast(attrs.dataFormat)) return undefined;
    const x = input('x');
    const dy = input('dy');
    const g = backpropFilterGeometry(x, attrs);
    return backend === 'wasm' ? backpropFilterAsConv(acc, x, dy, g) : backpropFilterLoops(acc, x, dy, g);
  },
  Conv2DBackpropInput: (backend) => (acc, args, input) => {
    const attrs = attrsOf<BackpropInputAttrs & { dataFormat?: string }>(args);
    if (!isChannelsLast(attrs.dataFormat)) return undefined;
    const dy = input('dy');
    const filter = input('filter');
    const g = backpropInputGeometry(filter, attrs);
    if (backend === 'cpu') return backpropInputLoops(acc, dy, filter, g);
    // Strided cases keep the stock wasm kernel (a C loop); stride 1 is what CNN blocks mostly use.
    return canBackpropInputAsConv(g) ? backpropInputAsConv(acc, dy, filter, g) : undefined;
  },
  DepthwiseConv2dNativeBackpropFilter: () => (acc, args, input) =>
    depthwiseBackpropFilter(acc, input('x'), input('dy'), attrsOf<DepthwiseFilterGradAttrs>(args)),
  DepthwiseConv2dNativeBackpropInput: () => (acc, args, input) =>
    depthwiseBackpropInput(acc, input('dy'), input('filter'), attrsOf<DepthwiseInputGradAttrs>(args)),
  MaxPoolGrad: () => (acc, args, input) =>
    maxPoolGradByWindows(acc, input('dy'), input('input'), attrsOf<MaxPoolGradAttrs>(args)),
  Tile: () => (acc, args, input) => {
    const x = input('x');
    return numeric(x) ? tileByBlocks(acc, x, attrsOf<{ reps: number[] }>(args).reps) : undefined;
  },
};

export function fastKernelsFor(backend: FastBackendName, stockLookup: StockLookup): tf.KernelConfig[] {
  return Object.entries(implementations).map(([name, impl]) => makeConfig(name, backend, stockLookup(name), impl(backend)));
}
