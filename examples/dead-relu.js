// A layer that is dead from the start: its bias of −10 pushes every pre-activation far below 0,
// so ReLU outputs 0 for every sample and no gradient flows back through it. NormScope flags it.
// Run: npx normscope check examples/dead-relu.js --fail-on dead
import * as tf from '@tensorflow/tfjs';

export function createModel() {
  const model = tf.sequential();
  model.add(tf.layers.dense({ inputShape: [16], units: 32, activation: 'relu' }));
  model.add(tf.layers.dense({ units: 32, activation: 'relu', biasInitializer: tf.initializers.constant({ value: -10 }) }));
  model.add(tf.layers.dense({ units: 4, activation: 'softmax' }));
  return model;
}
