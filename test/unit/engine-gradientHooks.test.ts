// ∂loss/∂output is measured by wrapping the gradient of the kernel that made a layer's output, or,
// when the output is not a new kernel output (a layer that returns its input), through a
// customGrad identity. Both paths, hand-checked: y = x·W, W = [1, 1], x = [1, 2], MSE to 0,
// so ∂loss/∂y = 2·3 = 6 for the Dense output and for the linear Activation that passes it on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { STAT_NAMES } from '../../src/protocol';
import { runInProcess } from './engine-fixtures';

const MODEL = `const tf = require('@tensorflow/tfjs');
const model = tf.sequential({ layers: [
  tf.layers.dense({ inputShape: [2], units: 1, useBias: false, kernelInitializer: 'ones' }),
  tf.layers.activation({ activation: 'linear' }),
] });
module.exports = { model, normscope: {
  data: () => ({ xs: tf.tensor2d([[1, 2]]), ys: tf.tensor2d([[0]]) }),
  batchSize: 1, optimizer: tf.train.sgd(0.1), loss: 'meanSquaredError',
} };
`;

test('activationGradNorm through the tape hook and through the customGrad fallback', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'normscope-hooks-'));
  const file = path.join(dir, 'pass-through.js');
  fs.writeFileSync(file, MODEL);
  try {
    const { report, events, error } = await runInProcess(file, { steps: 2 });
    const afterFirst = tf.memory().numTensors;
    assert.equal(error, undefined);
    assert.ok(report);
    const sample = events.flatMap((e) => (e.type === 'progress' ? e.samples : []))[0];
    const at = (layer: number, stat: (typeof STAT_NAMES)[number]) => sample.values[layer * STAT_NAMES.length + STAT_NAMES.indexOf(stat)];
    assert.ok(Math.abs(sample.loss - 9) < 1e-4, `loss ${sample.loss}`);
    assert.ok(Math.abs(at(0, 'activationGradNorm') - 6) < 1e-4, `Dense (tape hook): ${at(0, 'activationGradNorm')}`);
    assert.ok(Math.abs(at(1, 'activationGradNorm') - 6) < 1e-4, `Activation (customGrad): ${at(1, 'activationGradNorm')}`);
    await runInProcess(file, { steps: 2 });
    assert.equal(tf.memory().numTensors, afterFirst, 'no tensor left behind by either hook');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
