// Static detection of training calls (CodeLens "Check Training Script"), on tfjs-examples-style code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { findTrainingCalls } from '../../src/analysis/trainingCalls';
import { FIXTURES } from './engine-fixtures';

test('fit, fitDataset and trainOnBatch on any receiver, with their lines', () => {
  const source = [
    "import * as tf from '@tensorflow/tfjs-node';",
    'async function train(model, gan) {',
    '  await model.fit(xs, ys, { epochs: 3 });',
    '  await this.model.fitDataset(ds, { epochs: 1 });',
    '  const loss = await gan.discriminator.trainOnBatch(x, y);',
    '  model.predict(xs);',
    '  model.fit;',
    '}',
  ].join('\n');
  const calls = findTrainingCalls(source, 'train.ts');
  assert.deepEqual(
    calls.map((c) => [c.method, c.receiver, c.line, c.column]),
    [
      ['fit', 'model', 3, 9],
      ['fitDataset', 'this.model', 4, 9],
      ['trainOnBatch', 'gan.discriminator', 5, 22],
    ],
  );
});

test('require() of any tfjs package counts; a file without tfjs gets no calls', () => {
  assert.equal(findTrainingCalls("const tf = require('@tensorflow/tfjs');\nmodel.fit(x, y);", 'a.js').length, 1);
  assert.equal(findTrainingCalls("const { fit } = require('./scaler');\nscaler.fit(rows);", 'b.js').length, 0);
  assert.equal(findTrainingCalls("const tf = await import('@tensorflow/tfjs-node-gpu');\nm.trainOnBatch(a, b);", 'c.mjs').length, 1);
});

test('the fixture scripts: one lens per training call', () => {
  const scripts = path.join(FIXTURES, '../scripts');
  const count = (file: string) => findTrainingCalls(fs.readFileSync(path.join(scripts, file), 'utf8'), file).map((c) => c.method);
  assert.deepEqual(count('csv/train.js'), ['fit']);
  assert.deepEqual(count('csv/train-dataset.js'), ['fitDataset']);
  assert.deepEqual(count('gan/train-gan.js'), ['trainOnBatch', 'trainOnBatch']);
  assert.deepEqual(count('imported/model.js'), []);
});
