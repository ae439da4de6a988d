// BatchNorm trained at batch size 2: the batch statistics are too noisy (static finding bn-small-batch).
const tf = require('@tensorflow/tfjs');

function createModel() {
  const model = tf.sequential();
  model.add(tf.layers.conv2d({ inputShape: [8, 8, 3], filters: 8, kernelSize: 3, activation: 'relu' }));
  model.add(tf.layers.batchNormalization());
  model.add(tf.layers.flatten());
  model.add(tf.layers.dense({ units: 2, activation: 'softmax' }));
  return model;
}

module.exports = { createModel, normscope: { batchSize: 2, steps: 10 } };
