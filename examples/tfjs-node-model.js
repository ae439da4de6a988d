// Written for @tensorflow/tfjs-node, as server-side training code usually is. NormScope runs it
// on its own tf instance, so it works whether or not tfjs-node is installed.
// Run: npx normscope check examples/tfjs-node-model.js
const tf = require('@tensorflow/tfjs-node');

const model = tf.sequential();
model.add(tf.layers.dense({ inputShape: [20], units: 32, activation: 'tanh' }));
model.add(tf.layers.batchNormalization());
model.add(tf.layers.dense({ units: 16, activation: 'tanh' }));
model.add(tf.layers.dense({ units: 1, activation: 'sigmoid' }));
model.compile({ optimizer: tf.train.sgd(0.05), loss: 'binaryCrossentropy' });

module.exports = model;

// Real data instead of synthetic: a learnable rule (is the sum of the features positive?).
module.exports.normscope = {
  data: () => {
    const xs = tf.randomNormal([256, 20]);
    const ys = tf.cast(tf.greater(tf.sum(xs, 1, true), 0), 'float32');
    return { xs, ys };
  },
  batchSize: 32,
};
