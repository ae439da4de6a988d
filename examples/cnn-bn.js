// A small image classifier: two conv blocks with BatchNorm, global pooling, softmax head.
// Run: npx normscope check examples/cnn-bn.js
const tf = require('@tensorflow/tfjs');

function convBlock(filters, first) {
  return [
    tf.layers.conv2d({ ...(first ? { inputShape: [16, 16, 3] } : {}), filters, kernelSize: 3, padding: 'same', useBias: false }),
    tf.layers.batchNormalization(),
    tf.layers.reLU(),
    tf.layers.maxPooling2d({ poolSize: 2 }),
  ];
}

exports.createModel = () => {
  const model = tf.sequential();
  [...convBlock(16, true), ...convBlock(32, false)].forEach((layer) => model.add(layer));
  model.add(tf.layers.globalAveragePooling2d({}));
  model.add(tf.layers.dense({ units: 5, activation: 'softmax' }));
  return model;
};

// Few, small batches keep a check fast.
exports.normscope = { batchSize: 16, steps: 30 };
