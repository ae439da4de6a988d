/**
 * Registers NormScope's gradient kernels on the wasm and cpu backends, so that training runs
 * without @tensorflow/tfjs-node: wasm gains the conv gradients it lacks, cpu gets faster ones.
 * Call after `await tf.setBackend(name)`. Kernels are overridden per backend and the stock ones
 * are kept, so `restoreStockKernels` can put them back (benchmarks and tests compare both).
 */
import * as tf from '@tensorflow/tfjs';
import { fastKernelsFor } from './kernel-table';
import type { FastBackendName } from './tensor-access';

export type { FastBackendName } from './tensor-access';

/** Stock configs we replaced, per backend, so they can be restored. `null` = there was none. */
const replaced = new Map<FastBackendName, Map<string, tf.KernelConfig | null>>();

/**
 * Idempotent: a second call for the same backend registers nothing new.
 * @returns names of the kernels registered by this call.
 */
export function registerFastKernels(backend: FastBackendName): string[] {
  if (backend !== 'wasm' && backend !== 'cpu') {
    throw new Error(`registerFastKernels: backend must be 'wasm' or 'cpu', got '${String(backend)}'`);
  }
  const stock = replaced.get(backend) ?? new Map<string, tf.KernelConfig | null>();
  replaced.set(backend, stock);
  const registered: string[] = [];
  for (const config of fastKernelsFor(backend, (name) => (stock.has(name) ? stock.get(name) ?? null : tf.getKernel(name, backend) ?? null))) {
    if (stock.has(config.kernelName)) continue;
    const previous = tf.getKernel(config.kernelName, backend) ?? null;
    stock.set(config.kernelName, previous);
    if (previous) tf.unregisterKernel(config.kernelName, backend);
    tf.registerKernel(config);
    registered.push(config.kernelName);
  }
  return registered;
}

/** Undo `registerFastKernels(backend)`: the stock kernels (or none) are registered again. */
export function restoreStockKernels(backend: FastBackendName): string[] {
  const stock = replaced.get(backend);
  if (!stock) return [];
  const restored: string[] = [];
  for (const [name, previous] of stock) {
    tf.unregisterKernel(name, backend);
    if (previous) tf.registerKernel(previous);
    restored.push(name);
  }
  replaced.delete(backend);
  return restored;
}
