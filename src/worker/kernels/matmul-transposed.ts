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
