/**
 * Registers NormScope's kernels on the wasm and cpu backends, so that training runs without
 * @tensorflow/tfjs-node: wasm gains the conv gradients it lacks, cpu gets faster ones (the list
 * per backend is in kernel-table.ts), and every other kernel wasm lacks runs the cpu kernel
 * (cpu-fallback.ts).
 * Call after `await tf.setBackend(name)`. Kernels are overridden per backend and the stock ones
 * are kept, so `restoreStockKernels` can put them back (benchmarks and tests compare both).
 * Also replaces, while any backend is registered, the Tile, Sum, Mean and FusedBatchNorm gradients
 * (same values from fewer kernels, see tile-gradient.ts, reduction-gradients.ts, batch-norm-grad.ts),
 * Adam's update (adam.ts), tfjs' Engine.clone (engine-clone.ts) and tf.fused.conv2d in training
 * (fused-conv-gradient.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { fastKernelsFor } from './kernel-table';
import type { FastBackendName } from './tensor-access';
import { tileGradConfig } from './tile-gradient';
import { BATCH_NORM_GRAD_KERNEL, batchNormGradConfig } from './batch-norm-grad';
import { meanGradConfig, sumGradConfig } from './reduction-gradients';
import { ADAM_KERNEL, fusedApplyGradients } from './adam';
import { fastClone } from './engine-clone';
import { fusedConv2DGradConfig, lazyFusedConv2d } from './fused-conv-gradient';
import { kernelsMissingOn, wasmFallbackConfig, WRONG_ON_WASM } from './cpu-fallback';

export type { FastBackendName } from './tensor-access';

/** Stock configs we replaced, per backend, so they can be restored. `null` = there was none. */
const replaced = new Map<FastBackendName, Map<string, tf.KernelConfig | null>>();

/**
 * Gradient functions are global in tfjs (not per backend). Ours compute the same values with far
 * fewer kernels, so they are installed with the first backend and the stock ones return when
 * the last backend is restored.
 */
let stockGradients: tf.GradConfig[] | null = null;
/** Likewise global: the optimizer method the fused Adam update replaced (adam.ts), the engine's clone (engine-clone.ts). */
let stockAdam: tf.AdamOptimizer['applyGradients'] | null = null;
type EngineWithClone = { clone: Parameters<typeof fastClone>[0] };
let stockClone: EngineWithClone['clone'] | null = null;
/** And the fused conv op (fused-conv-gradient.ts); its registered gradient stays (stock never records that kernel). */
let stockFusedConv: typeof tf.fused.conv2d | null = null;

function overrideGradients(): void {
  if (stockGradients) return;
  const stockBatchNorm = tf.getGradient('FusedBatchNorm');
  const overrides = [tileGradConfig, sumGradConfig, meanGradConfig];
  // Uses our fused kernel only where it is registered (tfjs-node keeps the stock path).
  if (stockBatchNorm)
    overrides.push(batchNormGradConfig(stockBatchNorm, () => tf.getKernel(BATCH_NORM_GRAD_KERNEL, tf.getBackend()) != null));
  stockGradients = overrides.map((g) => tf.getGradient(g.kernelName)).filter((g): g is tf.GradConfig => g != null);
  for (const g of overrides) tf.registerGradient(g);
  stockAdam = tf.AdamOptimizer.prototype.applyGradients;
  tf.AdamOptimizer.prototype.applyGradients = fusedApplyGradients(stockAdam, () => tf.getKernel(ADAM_KERNEL, tf.getBackend()) != null);
  const engine = tf.engine() as unknown as EngineWithClone;
  stockClone = engine.clone;
  engine.clone = fastClone(stockClone, () => replaced.has(tf.getBackend() as FastBackendName));
  tf.registerGradient(fusedConv2DGradConfig);
  stockFusedConv = tf.fused.conv2d;
  (tf.fused as { conv2d: typeof tf.fused.conv2d }).conv2d = lazyFusedConv2d(stockFusedConv, () =>
    replaced.has(tf.getBackend() as FastBackendName),
  );
}

function restoreGradients(): void {
  if (!stockGradients || replaced.size > 0) return;
  for (const g of stockGradients) tf.registerGradient(g);
  stockGradients = null;
  if (stockAdam) tf.AdamOptimizer.prototype.applyGradients = stockAdam;
  stockAdam = null;
  if (stockClone) (tf.engine() as unknown as EngineWithClone).clone = stockClone;
  stockClone = null;
  if (stockFusedConv) (tf.fused as { conv2d: typeof tf.fused.conv2d }).conv2d = stockFusedConv;
  stockFusedConv = null;
}

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
  for (const config of fastKernelsFor(backend, (name) =>
    stock.has(name) ? (stock.get(name) ?? null) : (tf.getKernel(name, backend) ?? null),
  )) {
    if (stock.has(config.kernelName)) continue;
    const previous = tf.getKernel(config.kernelName, backend) ?? null;
    stock.set(config.kernelName, previous);
    if (previous) tf.unregisterKernel(config.kernelName, backend);
    tf.registerKernel(config);
    registered.push(config.kernelName);
  }
  // After our own kernels: whatever wasm still lacks runs the cpu kernel (cpu-fallback.ts).
  if (backend === 'wasm') {
    for (const name of [...kernelsMissingOn('wasm'), ...WRONG_ON_WASM.filter((k) => !stock.has(k))]) {
      const previous = tf.getKernel(name, backend) ?? null;
      stock.set(name, previous);
      if (previous) tf.unregisterKernel(name, backend);
      tf.registerKernel(wasmFallbackConfig(name));
      registered.push(name);
    }
  }
  overrideGradients();
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
  restoreGradients();
  return restored;
}
