/** Overriding an optimizer's learning rate for one run (Compare's learning-rate sweep, `RunOptions.learningRate`). */
import type * as tf from '@tensorflow/tfjs';
import { UserCodeError } from '../../userCode/errors';

/**
 * Sets the rate every tfjs optimizer reads at each update: SGD and Momentum keep it as a scalar tensor
 * (`setLearningRate`), the others read the `learningRate` field.
 */
export function setLearningRate(optimizer: tf.Optimizer, learningRate: number): void {
  if (!(Number.isFinite(learningRate) && learningRate > 0))
    throw new UserCodeError('bad-options', `learningRate must be a positive number, got ${learningRate}`, null);
  const o = optimizer as unknown as { learningRate?: unknown; setLearningRate?: (lr: number) => void };
  if (typeof o.setLearningRate === 'function') o.setLearningRate(learningRate);
  else if (typeof o.learningRate === 'number') o.learningRate = learningRate;
  else
    throw new UserCodeError(
      'bad-options',
      `cannot set the learning rate of ${optimizer.getClassName()} (it has no numeric learningRate)`,
      null,
    );
}
