/**
 * Gradient of FusedBatchNorm (tf.batchNorm, used by BatchNormalization layers) in one pass.
 * The stock gradient builds it from ~20 kernels, a dozen of them over the full activation, which
 * made batch norm most of a small CNN's step on wasm. With per-channel parameters (rank 1, the
 * layers case) and r = 1/sqrt(var + eps), s = scale, per channel c over all rows i:
 *   dx = dy·r·s   dmean = −r·s·Σdy   dvar = −½·r³·s·Σdy(x−mean)   dscale = r·Σdy(x−mean)   doffset = Σdy
 * The gradient is global in tfjs; on backends without our kernel, and for other parameter
 * shapes, it hands over to the stock gradient.
 */
import * as tf from '@tensorflow/tfjs';
import { TensorAccess } from './tensor-access';
import { kernelRoutines } from './simd-kernels';
import { MIN_CHANNEL_PASS_SIZE } from './wasm-channels';

export const BATCH_NORM_GRAD_KERNEL = 'NormScopeFusedBatchNormGrad';

/** Outputs [dx, dmean, dvariance, dscale, doffset]; `scale` may be absent (then s = 1). */
export function batchNormGrad(
  acc: TensorAccess,
  dy: tf.TensorInfo,
  x: tf.TensorInfo,
  mean: tf.TensorInfo,
  variance: tf.TensorInfo,
  scale: tf.TensorInfo | undefined,
  varianceEpsilon: number,
): tf.TensorInfo[] {
  const C = mean.shape[0];
  const n = x.shape.reduce((a, b) => a * b, 1);
  const simd = acc.memory && C % 4 === 0 && n >= MIN_CHANNEL_PASS_SIZE ? kernelRoutines(acc.memory) : null;
  // With SIMD: a scratch of 4 doubles per channel for the sums, then r·s per channel and zeros for dx = dy·(r·s) + 0.
  const shapes = simd ? [x.shape, [C], [C], [C], [C], [10 * C]] : [x.shape, [C], [C], [C], [C]];
  const inputs = scale ? [dy, x, mean, variance, scale] : [dy, x, mean, variance];
  const {
    outs,
    outValues: [dx, dMean, dVar, dScale, dOffset, scratch],
    inValues: [dyv, xv, m, v, s],
  } = acc.withOutputs(shapes, inputs);
  const sums = simd ? new Float64Array(scratch.buffer, scratch.byteOffset, 4 * C) : null;
  if (simd) simd.bnGradSums(dyv.byteOffset, xv.byteOffset, dyv.byteOffset + n * 4, C * 4, m.byteOffset, scratch.byteOffset);
  // One channel at a time with the sums in locals (faster in V8 than per-channel arrays), in
  // float64 because batch statistics over many rows lose digits in float32.
  for (let c = 0; c < C; c++) {
    const r = 1 / Math.sqrt(v[c] + varianceEpsilon);
    const rs = r * (s ? s[c] : 1);
    const mc = m[c];
    let sumDy = 0;
    let sumDyXc = 0;
    if (sums) {
      // Block b = c >> 2 holds Σdy for lanes 0-1, 2-3, then Σdy·(x − mean) for lanes 0-1, 2-3.
      const at = (c >> 2) * 8 + (c & 3);
      sumDy = sums[at];
      sumDyXc = sums[at + 4];
      scratch[8 * C + c] = rs;
    } else {
      for (let i = c; i < n; i += C) {
        const g = dyv[i];
        sumDy += g;
        sumDyXc += g * (xv[i] - mc);
        dx[i] = g * rs;
      }
    }
    dMean[c] = -rs * sumDy;
    dVar[c] = -0.5 * r * r * rs * sumDyXc;
    dScale[c] = r * sumDyXc;
    dOffset[c] = sumDy;
  }
  if (simd) {
    const rsAt = scratch.byteOffset + 8 * C * 4;
    simd.affine(dyv.byteOffset, dx.byteOffset, dyv.byteOffset + n * 4, C * 4, rsAt, rsAt + C * 4);
    acc.free(outs.pop()!);
  }
  return outs;
}

/** Wraps the stock FusedBatchNorm gradient; `hasKernel` says whether the current backend has ours. */
export function batchNormGradConfig(stock: tf.GradConfig, hasKernel: () => boolean): tf.GradConfig {
  return {
    kernelName: 'FusedBatchNorm',
    inputsToSave: ['x', 'mean', 'variance', 'scale'],
    gradFunc: (dy, saved, attrs) => {
      const [x, mean, variance, scale] = saved;
      const C = mean.shape[0];
      const perChannel =
        mean.rank === 1 &&
        variance.rank === 1 &&
        variance.shape[0] === C &&
        (scale == null || (scale.rank === 1 && scale.shape[0] === C)) &&
        x.shape[x.rank - 1] === C &&
        [dy as tf.Tensor, x, mean, variance].every((t) => t.dtype === 'float32');
      if (!perChannel || !hasKernel()) return stock.gradFunc(dy, saved, attrs);
      const inputs: tf.NamedTensorMap = { dy: dy as tf.Tensor, x, mean, variance };
      if (scale != null) inputs.scale = scale;
      const [dx, dMean, dVar, dScale, dOffset] = tf.engine().runKernel(BATCH_NORM_GRAD_KERNEL, inputs, attrs) as tf.Tensor[];
      // All five are computed together; the engine calls only the thunks of inputs that need a
      // gradient and its enclosing tidy disposes the rest.
      return { x: () => dx, mean: () => dMean, variance: () => dVar, scale: () => dScale, offset: () => dOffset };
    },
  };
}
