/**
 * BatchMatMul and _FusedMatMul with transposeA/transposeB on wasm, run as an explicit Transpose
 * followed by the stock kernel without flags. With a flag set, stock wasm BatchMatMul is ~20x
 * slower (dense-layer gradients set them: dx = dy·Wᵀ, dW = xᵀ·dy) and stock wasm _FusedMatMul
 * returns wrong values in tfjs 4.22 (it behaves as if the flags were false).
 */
import * as tf from '@tensorflow/tfjs';
import { TensorAccess } from './tensor-access';

function swapLastTwo(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
  return perm;
}

const sizeOf = (t: tf.TensorInfo) => t.shape.reduce((p, d) => p * d, 1);

/**
 * a·bᵀ for a large b (dx = dy·Wᵀ of a wide Dense layer) as (b·aᵀ)ᵀ: XNNPACK packs its right operand on every
 * call, so packing aᵀ and transposing the small result beats transposing and packing all of W. Null where
 * that would not be cheaper (or for _FusedMatMul, whose bias and activation apply to the output's columns).
 */
export function matMulTransposedB(acc: TensorAccess, stock: tf.KernelConfig, a: tf.TensorInfo, b: tf.TensorInfo): tf.TensorInfo | null {
  const rank = Math.max(a.shape.length, b.shape.length);
  const outSize = (sizeOf(a) / a.shape[a.shape.length - 1]) * b.shape[b.shape.length - 2];
  if (stock.kernelName !== 'BatchMatMul' || a.shape.length !== b.shape.length || 2 * sizeOf(a) + outSize >= 2 * sizeOf(b)) return null;
  const aT = acc.run('Transpose', { x: a }, { perm: swapLastTwo(a.shape.length) });
  let product: tf.TensorInfo | null = null;
  try {
    const result = stock.kernelFunc({ inputs: { a: b, b: aT }, attrs: { transposeA: false, transposeB: false }, backend: acc.backend });
    if (Array.isArray(result)) throw new Error('BatchMatMul returned several outputs');
    product = result;
    return acc.run('Transpose', { x: product }, { perm: swapLastTwo(rank) });
  } finally {
    acc.free(aT);
    if (product) acc.free(product);
  }
}

/** `stock` is the kernel to call once a and b are laid out untransposed; other inputs and attrs pass through. */
export function matMulUntransposed(
  acc: TensorAccess,
  stock: tf.KernelConfig,
  args: Parameters<tf.KernelFunc>[0],
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
): tf.TensorInfo {
  const temps: tf.TensorInfo[] = [];
  try {
    const a2 = transposeA ? acc.run('Transpose', { x: a }, { perm: swapLastTwo(a.shape.length) }) : a;
    if (transposeA) temps.push(a2);
    const b2 = transposeB ? acc.run('Transpose', { x: b }, { perm: swapLastTwo(b.shape.length) }) : b;
    if (transposeB) temps.push(b2);
    const result = stock.kernelFunc({
      ...args,
      inputs: { ...args.inputs, a: a2, b: b2 },
      attrs: { ...args.attrs, transposeA: false, transposeB: false },
    });
    if (Array.isArray(result)) throw new Error(`${stock.kernelName} returned several outputs`);
    return result;
  } finally {
    for (const t of temps) acc.free(t);
  }
}
