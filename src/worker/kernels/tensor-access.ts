/**
 * The few backend internals our kernels touch, behind one small interface so that the same
 * arithmetic (plain loops over Float32Arrays) runs on the cpu backend (JS arrays) and on the wasm
 * backend (views into the wasm heap). Also lets a kernel call another kernel of the same backend
 * directly (as tfjs backends do internally) and free its intermediates without the engine seeing them.
 */
import * as tf from '@tensorflow/tfjs';

export type FastBackendName = 'wasm' | 'cpu';

/** The parts of MathBackendCPU / BackendWasm used here (both are public fields in tfjs 4.22). */
interface CpuBackendInternals {
  incRef(dataId: object): void;
  data: { get(dataId: object): { values: tf.backend_util.BackendValues } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: tf.backend_util.BackendValues): tf.TensorInfo;
  disposeIntermediateTensorInfo(info: tf.TensorInfo): void;
}
interface WasmBackendInternals {
  wasm?: { asm?: { memory?: unknown } };
  incRef(dataId: object): void;
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): tf.backend_util.TypedArray;
  disposeData(dataId: object): boolean;
}

/** Float32 reads, writes and kernel calls for one backend. */
export interface TensorAccess {
  readonly backendName: FastBackendName;
  /** The wasm backend's memory (where its tensors live), for SIMD routines that run in it; null on cpu. */
  readonly memory: WebAssembly.Memory | null;
  /** The backend itself, for calling a kernel config directly. */
  readonly backend: tf.KernelBackend;
  /**
   * Allocates a zero-filled float32 output first, then returns views of it and of the inputs
   * (in that order, because allocating may grow the wasm heap and detach older views).
   */
  withOutput(shape: number[], inputs: tf.TensorInfo[]): { out: tf.TensorInfo; outValues: Float32Array; inValues: Float32Array[] };
  /** `withOutput` for a kernel with several float32 outputs. */
  withOutputs(shapes: number[][], inputs: tf.TensorInfo[]): { outs: tf.TensorInfo[]; outValues: Float32Array[]; inValues: Float32Array[] };
  /** Like `withOutput` for any numeric dtype (int32, bool, float32); values are the backend's own typed arrays. */
  withRawOutput(
    shape: number[],
    dtype: tf.DataType,
    inputs: tf.TensorInfo[],
  ): { out: tf.TensorInfo; outValues: tf.backend_util.TypedArray; inValues: tf.backend_util.TypedArray[] };
  /** Runs another kernel of this backend on raw tensor infos; the caller must `free` the result. */
  run(kernelName: string, inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap): tf.TensorInfo;
  /** A second reference to the same data (refcounted, like the backends' own Reshape). */
  alias(info: tf.TensorInfo): tf.TensorInfo;
  /** Frees an intermediate made by `run` (never an input or the returned output). */
  free(info: tf.TensorInfo): void;
}

function float32Of(values: tf.backend_util.BackendValues | tf.backend_util.TypedArray, info: tf.TensorInfo): Float32Array {
  if (values instanceof Float32Array) return values;
  // int32 inputs are rare for these kernels (gradients are float); convert rather than fail.
  if (ArrayBuffer.isView(values)) return Float32Array.from(values as Int32Array);
  throw new Error(`NormScope kernels: expected a numeric tensor, got dtype ${info.dtype} with shape [${info.shape}]`);
}

function numericValues(values: tf.backend_util.BackendValues, info: tf.TensorInfo): tf.backend_util.TypedArray {
  if (ArrayBuffer.isView(values)) return values as tf.backend_util.TypedArray;
  throw new Error(`NormScope kernels: expected a numeric tensor, got dtype ${info.dtype} with shape [${info.shape}]`);
}

/** `withOutput` from a backend's `withOutputs`: one output. */
function oneOutput(withOutputs: TensorAccess['withOutputs']): TensorAccess['withOutput'] {
  return (shape, inputs) => {
    const { outs, outValues, inValues } = withOutputs([shape], inputs);
    return { out: outs[0], outValues: outValues[0], inValues };
  };
}

/** One TensorAccess per backend instance: kernels run hundreds of times a step, so it is built once. */
const built = new WeakMap<object, TensorAccess>();
export function tensorAccess(backend: unknown, backendName: FastBackendName): TensorAccess {
  let access = built.get(backend as object);
  if (!access || access.backendName !== backendName) {
    access = makeTensorAccess(backend, backendName);
    built.set(backend as object, access);
  }
  return access;
}

function makeTensorAccess(backend: unknown, backendName: FastBackendName): TensorAccess {
  const run = (kernelName: string, inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap): tf.TensorInfo => {
    const kernel = tf.getKernel(kernelName, backendName);
    if (kernel == null) throw new Error(`NormScope kernels: the ${backendName} backend has no '${kernelName}' kernel`);
    const result = kernel.kernelFunc({ inputs, attrs, backend: backend as tf.KernelBackend });
    if (Array.isArray(result)) throw new Error(`NormScope kernels: '${kernelName}' returned several outputs`);
    return result;
  };
  if (backendName === 'cpu') {
    const cpu = backend as CpuBackendInternals;
    const withOutputs = (shapes: number[][], inputs: tf.TensorInfo[]) => {
      const outValues = shapes.map((shape) => new Float32Array(shape.reduce((a, b) => a * b, 1)));
      const outs = shapes.map((shape, i) => cpu.makeTensorInfo(shape, 'float32', outValues[i]));
      return { outs, outValues, inValues: inputs.map((i) => float32Of(cpu.data.get(i.dataId).values, i)) };
    };
    return {
      backendName,
      memory: null,
      backend: backend as tf.KernelBackend,
      withOutputs,
      withOutput: oneOutput(withOutputs),
      withRawOutput(shape, dtype, inputs) {
        const inValues = inputs.map((i) => numericValues(cpu.data.get(i.dataId).values, i));
        const size = shape.reduce((a, b) => a * b, 1);
        const outValues = dtype === 'float32' ? new Float32Array(size) : dtype === 'bool' ? new Uint8Array(size) : new Int32Array(size);
        return { out: cpu.makeTensorInfo(shape, dtype, outValues), outValues, inValues };
      },
      run,
      alias: (info) => {
        cpu.incRef(info.dataId);
        return { dataId: info.dataId, shape: info.shape, dtype: info.dtype };
      },
      free: (info) => cpu.disposeIntermediateTensorInfo(info),
    };
  }
  const wasm = backend as WasmBackendInternals;
  const withOutputs = (shapes: number[][], inputs: tf.TensorInfo[]) => {
    const outs = shapes.map((shape) => wasm.makeOutput(shape, 'float32'));
    // Views only after every allocation: a heap growth detaches views made earlier.
    const outValues = outs.map((o) => wasm.typedArrayFromHeap(o) as Float32Array);
    for (const v of outValues) v.fill(0); // the wasm heap is not zeroed on allocation
    return { outs, outValues, inValues: inputs.map((i) => float32Of(wasm.typedArrayFromHeap(i), i)) };
  };
  const memory = wasm.wasm?.asm?.memory;
  return {
    backendName,
    memory: memory instanceof WebAssembly.Memory ? memory : null,
    backend: backend as tf.KernelBackend,
    withOutputs,
    withOutput: oneOutput(withOutputs),
    withRawOutput(shape, dtype, inputs) {
      const out = wasm.makeOutput(shape, dtype);
      return { out, outValues: wasm.typedArrayFromHeap(out), inValues: inputs.map((i) => wasm.typedArrayFromHeap(i)) };
    },
    run,
    alias: (info) => {
      wasm.incRef(info.dataId);
      return { dataId: info.dataId, shape: info.shape, dtype: info.dtype };
    },
    free: (info) => {
      wasm.disposeData(info.dataId);
    },
  };
}
