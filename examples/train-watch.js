// A TensorFlow.js training run watched by NormScope from inside your own process: one callback in model.fit.
// It trains a small regressor for 3,000 steps; at step 2,000 a learning-rate schedule gone wrong multiplies the rate by
// 100: the loss explodes within a few steps and turns to Inf/NaN. Run it, then read when and where it went wrong:
//
//   node examples/train-watch.js          # writes .normscope/runs/<time>-train-watch/
//   npx normscope report                  # the newest run: findings from the step they started (exploding ~2003,
//                                         # non-finite a few steps later: the loss of every step is in the log)
//   npx normscope watch                   # (in another terminal, while it trains) live progress and findings
//
// In your own project: npm install -D <the normscope tarball>, then require('normscope') before building the model.
const { normscopeCallback } = require('normscope');
const tf = require('@tensorflow/tfjs');

function buildModel() {
  const model = tf.sequential();
  model.add(tf.layers.dense({ inputShape: [8], units: 32, activation: 'relu' }));
  model.add(tf.layers.dense({ units: 1 }));
  model.compile({ optimizer: tf.train.sgd(0.01), loss: 'meanSquaredError' });
  return model;
}

/** The schedule: 0.01, then (the bug) 1.0 from `step` on. */
function learningRateJump(model, step) {
  let seen = 0;
  return {
    onBatchEnd: async () => {
      if (++seen === step) model.optimizer.setLearningRate(1.0);
    },
  };
}

async function main() {
  const model = buildModel();
  const xs = tf.randomNormal([320, 8], 0, 1, 'float32', 1);
  const ys = xs.sum(1, true).abs();
  // 10 batches per epoch, 300 epochs: 3,000 optimizer steps, every 10th measured.
  await model.fit(xs, ys, {
    epochs: 300,
    batchSize: 32,
    verbose: 0,
    callbacks: [learningRateJump(model, 2000), normscopeCallback({ every: 10 })],
  });
  console.log('trained 3,000 steps; now: npx normscope report');
}

main();
