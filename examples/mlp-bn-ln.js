// A small classifier MLP with BatchNorm in the hidden blocks and LayerNorm before the head.
// Run: npx normscope check examples/mlp-bn-ln.js
const tf = require('@tensorflow/tfjs');

function hiddenBlock(units) {
  return [
    tf.layers.dense({ units, useBias: false }),
    tf.layers.batchNormalization(),
    tf.layers.activation({ activation: 'relu' }),
  ];
}

function createModel() {
  const model = tf.sequential();
  model.add(tf.layers.dense({ inputShape: [64], units: 128, activation: 'relu' }));
  for (const units of [128, 64]) {
    for (const layer of hiddenBlock(units)) model.add(layer);
  }
  model.add(tf.layers.layerNormalization());
  model.add(tf.layers.dense({ units: 10, activation: 'softmax' }));
  return model;
}

module.exports = { createModel };
