/** The bench's two models (test/bench/torch_steps.py builds the same ones in PyTorch). */
import type * as tf from '@tensorflow/tfjs';

type Tf = typeof tf;

/** The CNN of issue 4 (batch 32, 28x28x1, Adam). */
export function buildCnn(t: Tf): tf.LayersModel {
  const m = t.sequential();
  m.add(t.layers.conv2d({ inputShape: [28, 28, 1], filters: 8, kernelSize: 3, padding: 'same' }));
  m.add(t.layers.batchNormalization());
  m.add(t.layers.reLU());
  m.add(t.layers.maxPooling2d({ poolSize: 2 }));
  m.add(t.layers.conv2d({ filters: 16, kernelSize: 3, padding: 'same' }));
  m.add(t.layers.batchNormalization());
  m.add(t.layers.reLU());
  m.add(t.layers.maxPooling2d({ poolSize: 2 }));
  m.add(t.layers.flatten());
  m.add(t.layers.dense({ units: 10, activation: 'softmax' }));
  return m;
}

/** 784 → dense 256 → batchNorm → relu → dense 128 → layerNorm → relu → dense 10 softmax. */
export function buildMlp(t: Tf): tf.LayersModel {
  const m = t.sequential();
  m.add(t.layers.dense({ inputShape: [784], units: 256 }));
  m.add(t.layers.batchNormalization());
  m.add(t.layers.reLU());
  m.add(t.layers.dense({ units: 128 }));
  m.add(t.layers.layerNormalization());
  m.add(t.layers.reLU());
  m.add(t.layers.dense({ units: 10, activation: 'softmax' }));
  return m;
}
