/**
 * Gradient of Tile as one reshape + sum. The stock gradient adds one slice of dy per repetition:
 * tfjs-layers' LayerNormalization tiles [32,1] statistics to [32,128], so each LN layer cost
 * ~640 tiny kernels per training step (more than the rest of an MLP step together). Same result,
 * any rank (the stock one stops at rank 4), on every backend.
 */
import * as tf from '@tensorflow/tfjs';

/** dy has shape x·reps; view each tiled dimension as [rep, x] and sum the rep axes. */
export function tileGradient(dy: tf.Tensor, xShape: number[], reps: number[]): tf.Tensor {
  const split: number[] = [];
  const repAxes: number[] = [];
  xShape.forEach((d, i) => {
    if (reps[i] > 1) {
      repAxes.push(split.length);
      split.push(reps[i]);
    }
    split.push(d);
  });
  return repAxes.length === 0 ? tf.reshape(dy, xShape) : tf.sum(tf.reshape(dy, split), repAxes);
}

export const tileGradConfig: tf.GradConfig = {
  kernelName: 'Tile',
  inputsToSave: ['x'],
  gradFunc: (dy, saved, attrs) => {
    const [x] = saved;
    const { reps } = attrs as unknown as { reps: number[] };
    return { x: () => tileGradient(dy as tf.Tensor, x.shape, reps) };
  },
};
