import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EXAMPLES } from './engine-fixtures';
import { parseModelSource } from '../../src/analysis/layerCalls';
import { findSpecSteps } from '../../src/analysis/specSteps';

const steps = (src: string, file = 'm.js') => findSpecSteps(parseModelSource(src, file).sourceFile);

test('reads steps from every export form of the normscope spec', () => {
  assert.deepEqual(
    steps('const tf = require("@tensorflow/tfjs");\nmodule.exports = { createModel, normscope: { batchSize: 2, steps: 20 } };'),
    { value: 20, line: 2 },
  );
  assert.deepEqual(steps('exports.normscope = {\n  steps: 30,\n};'), { value: 30, line: 2 });
  assert.deepEqual(steps('export const normscope = { steps: 7 };', 'm.ts'), { value: 7, line: 1 });
  assert.deepEqual(steps('const STEPS = 12;\nconst normscope = { steps: STEPS };\nmodule.exports = { model, normscope };'), {
    value: 12,
    line: 2,
  });
  assert.deepEqual(steps('const spec = { "steps": 9 };\nmodule.exports.normscope = spec;'), { value: 9, line: 1 });
});

test('no steps when the spec does not say, or says something unknowable', () => {
  assert.equal(steps('module.exports = { createModel, normscope: { batchSize: 4 } };'), null);
  assert.equal(steps('model.fit(xs, ys, { steps: 5 });'), null, 'fit options are not the spec');
  assert.equal(steps('module.exports = { normscope: { steps: process.env.N } };'), null);
  assert.equal(steps('module.exports = { normscope: { steps: 0 } };'), null);
  assert.equal(steps('module.exports = { normscope: { steps: 2.5 } };'), null);
});

test('the shipped examples: the spec wins where there is one', () => {
  assert.equal(steps(readFileSync(join(EXAMPLES, 'small-batch-bn.js'), 'utf8'))?.value, 20);
  assert.equal(steps(readFileSync(join(EXAMPLES, 'mlp-bn-ln.js'), 'utf8')), null);
  assert.equal(steps(readFileSync(join(EXAMPLES, 'cnn-bn.js'), 'utf8'))?.value, 30);
});
