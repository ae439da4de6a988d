/**
 * Gradients of Sum and Mean as one broadcast (a Tile kernel, fast with ours) instead of
 * multiplying by a freshly filled ones(x.shape) and, for Mean, dividing the full result: two or
 * three full-size kernels per reduction become one. Batch-norm statistics (tf.moments) and bias
 * gradients go through these. Same values on every backend.
 */
import * as tf from '@tensorflow/tfjs';

function expandedShape(xShape: number[], axis: unknown): number[] {
  const shape = xShape.slice();
  for (const a of tf.util.parseAxisParam(axis as number | number[], xShape)) shape[a] = 1;
  return shape;
}

export const sumGradConfig: tf.GradConfig = {
  kernelName: 'Sum',
  inputsToSave: ['x'],
  gradFunc: (dy, saved, attrs) => {
    const [x] = saved;
    const dyExpanded = expandedShape(x.shape, attrs.axis);
    return { x: () => tf.broadcastTo(tf.reshape(dy as tf.Tensor, dyExpanded), x.shape) };
  },
};

export const meanGradConfig: tf.GradConfig = {
  kernelName: 'Mean',
  inputsToSave: ['x'],
  gradFunc: (dy, saved, attrs) => {
    const [x] = saved;
    const dyExpanded = expandedShape(x.shape, attrs.axis);
    const reduceSize = x.size / dyExpanded.reduce((a, b) => a * b, 1);
    // Divide the small tensor, then broadcast: the stock gradient divides the full-size one.
    return { x: () => tf.broadcastTo(tf.reshape(tf.div(dy as tf.Tensor, reduceSize), dyExpanded), x.shape) };
  },
};
