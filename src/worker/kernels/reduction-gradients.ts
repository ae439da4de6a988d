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

/** dy reshaped to keep the reduced axes (as 1s) and broadcast back to x; Mean divides dy (small) first. */
function broadcastGradConfig(kernelName: 'Sum' | 'Mean'): tf.GradConfig {
  return {
    kernelName,
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved;
      const dyExpanded = expandedShape(x.shape, attrs.axis);
      // Divide the small tensor, then broadcast: the stock Mean gradient divides the full-size one.
      const scaled = () =>
        kernelName === 'Mean' ? tf.div(dy as tf.Tensor, x.size / tf.util.sizeFromShape(dyExpanded)) : (dy as tf.Tensor);
      return { x: () => tf.broadcastTo(tf.reshape(scaled(), dyExpanded), x.shape) };
    },
  };
}

export const sumGradConfig = broadcastGradConfig('Sum');
export const meanGradConfig = broadcastGradConfig('Mean');
