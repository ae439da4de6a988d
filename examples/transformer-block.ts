// A TypeScript model: a pre-norm residual MLP block stack (LayerNorm before each sub-layer), the
// arrangement transformers use because it keeps a clean residual path for the gradient.
// Run: npx normscope check examples/transformer-block.ts
import * as tf from '@tensorflow/tfjs';

const WIDTH = 32;

function preNormBlock(x: tf.SymbolicTensor): tf.SymbolicTensor {
  const normed = tf.layers.layerNormalization().apply(x) as tf.SymbolicTensor;
  const hidden = tf.layers.dense({ units: WIDTH * 2, activation: 'relu' }).apply(normed) as tf.SymbolicTensor;
  const projected = tf.layers.dense({ units: WIDTH }).apply(hidden) as tf.SymbolicTensor;
  return tf.layers.add().apply([x, projected]) as tf.SymbolicTensor;
}

export function buildModel(): tf.LayersModel {
  const input = tf.input({ shape: [WIDTH] });
  let x = input;
  for (let i = 0; i < 3; i++) x = preNormBlock(x);
  const out = tf.layers.dense({ units: 1 }).apply(tf.layers.layerNormalization().apply(x)) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: out });
  model.compile({ optimizer: tf.train.adam(3e-4), loss: 'meanSquaredError' });
  return model;
}
