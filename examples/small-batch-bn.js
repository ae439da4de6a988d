// An image classifier trained with tiny batches (say, large images on a small GPU): BatchNorm sees only 2
// examples per step, so its statistics are noise and its moving averages never match training.
// NormScope flags it without a run (bn-small-batch) and offers GroupNorm; "Compare normalizations…" on the
// BatchNorm line trains both and shows which one holds up in inference mode.
const tf = require('@tensorflow/tfjs');

function createModel() {
  const model = tf.sequential();
  model.add(tf.layers.conv2d({ inputShape: [12, 12, 3], filters: 16, kernelSize: 3, padding: 'same', activation: 'relu' }));
  model.add(tf.layers.batchNormalization({ momentum: 0.99 }));
  model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  model.add(tf.layers.flatten());
  model.add(tf.layers.dense({ units: 3, activation: 'softmax' }));
  return model;
}

module.exports = { createModel, normscope: { batchSize: 2, steps: 20 } };
