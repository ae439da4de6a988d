/**
 * BatchMatMul with transposeA/transposeB on wasm: the stock kernel is ~20x slower with either flag
 * set (dense-layer gradients set them: dx = dy·Wᵀ, dW = xᵀ·dy). Transposing the operand first and
 * multiplying untransposed is much faster.
 */
import * as tf from '@tensorflow/tfjs';
import { TensorAccess } from './tensor-access';

function swapLastTwo(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
  return perm;
}

export function matMulUntransposed(acc: TensorAccess, a: tf.TensorInfo, b: tf.TensorInfo, transposeA: boolean, transposeB: boolean): tf.TensorInfo {
  const temps: tf.TensorInfo[] = [];
  try {
    const a2 = transposeA ? acc.run('Transpose', { x: a }, { perm: swapLastTwo(a.shape.length) }) : a;
    if (transposeA) temps.push(a2);
    const b2 = transposeB ? acc.run('Transpose', { x: b }, { perm: swapLastTwo(b.shape.length) }) : b;
    if (transposeB) temps.push(b2);
    return acc.run('BatchMatMul', { a: a2, b: b2 }, { transposeA: false, transposeB: false });
  } finally {
    for (const t of temps) acc.free(t);
  }
}
