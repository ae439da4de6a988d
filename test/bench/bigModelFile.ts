// Shared by the analysis unit test (correctness) and the analysis benchmark (speed).

/** A realistic 2,000-line model file: blocks of helpers, comments, residual stacks and a sequential model. */
export function bigModelFile(): string {
  const lines = ["import * as tf from '@tensorflow/tfjs';", ''];
  for (let b = 0; lines.length < 1980; b++) {
    lines.push(
      `/** Residual block ${b}: pre-norm, two dense layers. */`,
      `function block${b}(x, units) {`,
      '  // Normalise first so the residual path stays an identity at init.',
      '  let h = tf.layers.layerNormalization({ epsilon: 1e-5 }).apply(x);',
      "  h = tf.layers.dense({ units: units * 4, activation: 'relu' }).apply(h);",
      '  h = tf.layers.dropout({ rate: 0.1 }).apply(h);',
      '  h = tf.layers.dense({ units }).apply(h);',
      '  return tf.layers.add().apply([x, h]);',
      '}',
      '',
      `export function buildModel${b}(inputDim = 32) {`,
      '  const m = tf.sequential();',
      "  m.add(tf.layers.dense({ units: 64, inputShape: [inputDim], kernelInitializer: 'heNormal' }));",
      '  m.add(tf.layers.batchNormalization({ momentum: 0.99 }));',
      "  m.add(tf.layers.activation({ activation: 'relu' }));",
      '  const lr = 0.001 * Math.sqrt(inputDim);',
      "  m.compile({ optimizer: tf.train.adam(lr), loss: 'meanSquaredError' });",
      '  return m;',
      '}',
      '',
    );
  }
  return lines.join('\n');
}
