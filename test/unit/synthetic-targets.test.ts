// Synthetic data that fits the model: targets from the compiled loss, ids for Embedding inputs, sequences for
// recurrent inputs with an open time axis, one tensor per input and output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import '../../src/worker/backend';
import { IMAGE_SIZE, syntheticBatches, SEQUENCE_LENGTH } from '../../src/worker/training/synthetic';
import { targetKindOfLoss, targetKinds } from '../../src/worker/training/targets';

test('loss names in any spelling tfjs accepts map to a target kind; custom losses do not', () => {
  assert.equal(targetKindOfLoss('sparseCategoricalCrossentropy'), 'class-ids');
  assert.equal(targetKindOfLoss('sparse_categorical_crossentropy'), 'class-ids');
  assert.equal(targetKindOfLoss('binaryCrossentropy'), 'binary');
  assert.equal(targetKindOfLoss('mse'), 'regression');
  assert.equal(targetKindOfLoss('squaredHinge'), 'signs');
  assert.equal(
    targetKindOfLoss((a: tf.Tensor) => a),
    null,
  );
});

test('a model compiled with sparseCategoricalCrossentropy gets class ids below the class count, one per row', async () => {
  await tf.setBackend('cpu');
  const model = tf.sequential({ layers: [tf.layers.dense({ units: 7, activation: 'softmax', inputShape: [5] })] });
  model.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy' });
  const [batch] = syntheticBatches(model, 32, 1, 'm.js');
  assert.deepEqual(batch.ys[0].shape, [32, 1]);
  const ids = await batch.ys[0].data();
  assert.ok(Array.from(ids).every((v) => Number.isInteger(v) && v >= 0 && v < 7));
  assert.ok(new Set(ids).size > 1);
  model.dispose();
});

test('per-output losses by name, hinge targets ±1; uncompiled outputs follow their activation', async () => {
  await tf.setBackend('cpu');
  const input = tf.input({ shape: [4] });
  const a = tf.layers.dense({ units: 3, activation: 'softmax', name: 'a' }).apply(input) as tf.SymbolicTensor;
  const b = tf.layers.dense({ units: 2, name: 'b' }).apply(input) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: [a, b] });
  assert.deepEqual(targetKinds(model), ['one-hot', 'regression']);
  model.compile({ optimizer: 'sgd', loss: { a: 'sparseCategoricalCrossentropy', b: 'hinge' } });
  assert.deepEqual(targetKinds(model), ['class-ids', 'signs']);
  const [batch] = syntheticBatches(model, 8, 2, 'm.js');
  assert.deepEqual(
    batch.ys.map((y) => y.shape),
    [
      [8, 1],
      [8, 2],
    ],
  );
  assert.ok(Array.from(await batch.ys[1].data()).every((v) => v === 1 || v === -1));
  model.dispose();
});

test('an LSTM with an open time axis gets sequences; an Embedding input gets integer ids below inputDim', async () => {
  await tf.setBackend('cpu');
  const rnn = tf.sequential({ layers: [tf.layers.lstm({ units: 4, inputShape: [null, 3] }), tf.layers.dense({ units: 1 })] });
  const [seq] = syntheticBatches(rnn, 2, 3, 'r.js');
  assert.deepEqual(seq.xs[0].shape, [2, SEQUENCE_LENGTH, 3]);
  const text = tf.sequential({
    layers: [tf.layers.embedding({ inputDim: 11, outputDim: 4, inputLength: 6 }), tf.layers.flatten(), tf.layers.dense({ units: 1 })],
  });
  const [ids] = syntheticBatches(text, 5, 4, 't.js');
  assert.equal(ids.xs[0].dtype, 'int32');
  assert.ok(Array.from(await ids.xs[0].data()).every((v) => v >= 0 && v < 11));
  rnn.dispose();
  text.dispose();
});

test('open output dimensions take the shape of a forward pass: per-step LSTM outputs, a fully convolutional net', async () => {
  await tf.setBackend('cpu');
  const tagger = tf.sequential({
    layers: [
      tf.layers.lstm({ units: 4, returnSequences: true, inputShape: [null, 3] }),
      tf.layers.dense({ units: 5, activation: 'softmax' }),
    ],
  });
  tagger.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy' });
  const [tags] = syntheticBatches(tagger, 2, 5, 'tagger.js');
  assert.deepEqual(tags.ys[0].shape, [2, SEQUENCE_LENGTH, 1]);
  const fcn = tf.sequential({ layers: [tf.layers.conv2d({ filters: 2, kernelSize: 3, inputShape: [null, null, 3] })] });
  const [seg] = syntheticBatches(fcn, 2, 6, 'fcn.js');
  assert.deepEqual(seg.xs[0].shape, [2, IMAGE_SIZE, IMAGE_SIZE, 3]);
  assert.deepEqual(seg.ys[0].shape, [2, IMAGE_SIZE - 2, IMAGE_SIZE - 2, 2]);
  tagger.dispose();
  fcn.dispose();
});
