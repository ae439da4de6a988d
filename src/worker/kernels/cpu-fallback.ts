/**
 * The systematic answer to kernels the wasm backend lacks: every kernel the cpu backend has and
 * wasm does not (UnsortedSegmentSum from the Embedding/gather gradient, Einsum, the ragged ops,
 * ...) is registered on wasm as the cpu kernel run over copies of the wasm tensors' data. Slower
 * than a native kernel by two copies, but every model that trains on cpu trains on wasm; kernels
 * that matter for speed get their own implementation in kernel-table.ts instead.
 * Complex-valued kernels are left out: the wasm backend cannot hold complex64 tensors.
 */
import * as tf from '@tensorflow/tfjs';

/** The parts of MathBackendCPU and BackendWasm used here (public in tfjs 4.22). */
interface CpuInternals {
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: tf.backend_util.BackendValues): tf.TensorInfo;
  data: { get(dataId: object): { values: tf.backend_util.BackendValues } };
  disposeIntermediateTensorInfo(info: tf.TensorInfo): void;
}
interface WasmInternals {
  readSync(dataId: object): tf.backend_util.BackendValues;
  makeOutput(shape: number[], dtype: tf.DataType, memoryOffset?: number, values?: tf.backend_util.BackendValues): tf.TensorInfo;
}

const COMPLEX_KERNELS = new Set(['Complex', 'ComplexAbs', 'Real', 'Imag', 'FFT', 'IFFT', 'RFFT', 'IRFFT']);
/**
 * Stock wasm kernels (tfjs 4.22) that return wrong values, found by test/unit/kernels-layers.test.ts;
 * they run the cpu kernel too. Conv3DBackpropInputV2: wrong for every padding (Conv3D layers);
 * ResizeNearestNeighborGrad: wrong (UpSampling2D); MaxPool3D, MaxPool3DGrad and MaxPoolWithArgmax: a window
 * whose values are all negative gives 1.2e-38 (the max starts at FLT_MIN, not at -Infinity).
 */
export const WRONG_ON_WASM = ['Conv3DBackpropInputV2', 'MaxPool3D', 'MaxPool3DGrad', 'MaxPoolWithArgmax', 'ResizeNearestNeighborGrad'];

/** Kernels that draw on a browser canvas: nothing to run in the worker. */
const NOT_COMPUTATION = new Set(['Draw', 'FromPixels']);

/** Kernel names the cpu backend has and `backend` lacks, that a cpu fallback can run. */
export function kernelsMissingOn(backend: string): string[] {
  const present = new Set(tf.getKernelsForBackend(backend).map((k) => k.kernelName));
  return tf
    .getKernelsForBackend('cpu')
    .map((k) => k.kernelName)
    .filter((name) => !present.has(name) && !COMPLEX_KERNELS.has(name) && !NOT_COMPUTATION.has(name))
    .sort();
}

function cpuBackend(): CpuInternals {
  // findBackend initialises the cpu backend if no run has used it yet (it is synchronous).
  const cpu = tf.engine().findBackend('cpu');
  if (!cpu) throw new Error('NormScope kernels: the cpu backend, which runs kernels the wasm backend lacks, is not registered');
  return cpu as unknown as CpuInternals;
}

/** Numeric values as a typed array of their dtype (the wasm heap copies bytes). */
function typed(values: tf.backend_util.BackendValues, dtype: tf.DataType): tf.backend_util.BackendValues {
  if (dtype === 'string' || ArrayBuffer.isView(values)) return values;
  const out = tf.util.getTypedArrayFromDType(dtype as 'float32', (values as unknown as number[]).length);
  out.set(values as unknown as number[]);
  return out;
}

/**
 * The cpu backend's kernel (looked up at each call, so it is whichever cpu kernel is registered)
 * run on copies of the wasm inputs; its outputs are copied back into the wasm heap.
 */
export function wasmFallbackConfig(kernelName: string): tf.KernelConfig {
  return {
    kernelName,
    backendName: 'wasm',
    kernelFunc: ({ inputs, attrs, backend }) => {
      const wasm = backend as unknown as WasmInternals;
      const cpu = cpuBackend();
      const cpuKernel = tf.getKernel(kernelName, 'cpu');
      if (!cpuKernel) throw new Error(`NormScope kernels: ${kernelName} has no cpu kernel to run for the wasm backend`);
      const cpuInputs: tf.NamedTensorInfoMap = {};
      const made: tf.TensorInfo[] = [];
      try {
        for (const [name, info] of Object.entries(inputs)) {
          if (!info) continue;
          if (info.dtype === 'complex64') throw new Error(`${kernelName} on wasm: complex64 input '${name}' is not supported`);
          // readSync copies out of the heap, so the cpu kernel never sees a view that a heap growth could detach.
          const copy = cpu.makeTensorInfo(info.shape, info.dtype, wasm.readSync(info.dataId));
          made.push(copy);
          cpuInputs[name] = copy;
        }
        const result = cpuKernel.kernelFunc({ inputs: cpuInputs, attrs, backend: cpu as unknown as tf.KernelBackend });
        const outputs = Array.isArray(result) ? result : [result];
        made.push(...outputs);
        const back = outputs.map((out) => {
          if (out.dtype === 'complex64') throw new Error(`${kernelName} on wasm: a complex64 output is not supported`);
          return wasm.makeOutput(out.shape, out.dtype, undefined, typed(cpu.data.get(out.dataId).values, out.dtype));
        });
        return Array.isArray(result) ? back : back[0];
      } finally {
        // Each made info holds one reference (a cpu kernel returning its input, like Reshape, added one).
        for (const info of made) cpu.disposeIntermediateTensorInfo(info);
      }
    },
  };
}
