// The landscape instrument inside a real run: weights restored exactly (a run with it trains exactly like one
// without, same seed), one sample per K-th step with ICS for every weighted layer, and clear option errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { EXAMPLES, fixture, runInProcess } from './engine-fixtures';

const MLP_BN_LN = path.join(EXAMPLES, 'mlp-bn-ln.js');

test('same trained weights with and without the instrument (BatchNorm moving statistics included)', async () => {
  const off = await runInProcess(MLP_BN_LN, { steps: 10, seed: 5 });
  const on = await runInProcess(MLP_BN_LN, { steps: 10, seed: 5, landscape: { every: 3 } });
  assert.ok(off.report && on.report, on.error?.message ?? off.error?.message);
  assert.equal(off.report.landscape, undefined, 'off unless asked for');
  // Every step's loss depends on every trainable weight; the inference-mode loss on an unseen batch also on
  // the moving statistics; the weight norms and moving-statistic gaps are read from the weights themselves, and the
  // probes' training-mode passes do not count as updates of the moving statistics (they are undone).
  assert.deepEqual(on.report.loss, off.report.loss, 'loss at every step, bit for bit');
  assert.equal(on.report.evalLoss, off.report.evalLoss, 'inference-mode loss after training');
  for (const [i, layer] of off.report.layers.entries()) {
    for (const stat of ['weightNorm', 'updateNorm', 'movingMeanGap', 'movingVarGap', 'movingUpdates', 'gammaMean'] as const) {
      assert.deepEqual(on.report.layers[i].stats[stat], layer.stats[stat], `${layer.name} ${stat}`);
    }
  }
  const landscape = on.report.landscape!;
  assert.deepEqual(
    landscape.samples.map((s) => s.step),
    [0, 3, 6, 9],
  );
  assert.deepEqual(landscape.stepSizes, [0.25, 1, 2, 4]);
  const weighted = on.events.flatMap((e) => (e.type === 'layers' ? e.layers : [])).filter((l) => l.paramCount > 0);
  for (const s of landscape.samples) {
    assert.equal(s.losses.length, 4);
    assert.ok(s.losses.every((v) => v !== null && Number.isFinite(v)));
    assert.ok(s.gradChange.every((v) => v !== null && v >= 0));
    assert.deepEqual(
      s.ics!.map((v) => v.layer),
      weighted.map((l) => l.index),
      'ICS for every weighted layer',
    );
    assert.ok(s.ics!.every((v) => v.cosine === null || (v.cosine <= 1 + 1e-6 && v.cosine >= -1 - 1e-6)));
  }
  assert.ok(landscape.summary.lossSpan! > 0 && landscape.summary.smoothness! > 0);
  assert.equal(landscape.learningRate, 1e-3, 'Adam(1e-3), the default for an uncompiled model');
});

test('no tensors leak from a run with the instrument', async () => {
  await runInProcess(MLP_BN_LN, { steps: 4, landscape: { every: 2 } });
  const before = tf.memory().numTensors;
  await runInProcess(MLP_BN_LN, { steps: 4, landscape: { every: 2 } });
  assert.equal(tf.memory().numTensors, before);
});

test('bad landscape options are an options error naming the field', async () => {
  const { error } = await runInProcess(fixture('module-exports-model.js'), { landscape: { every: 0 } });
  assert.equal(error?.code, 'bad-options');
  assert.match(error!.message, /landscape: every must be a positive integer/);
  const sizes = await runInProcess(fixture('module-exports-model.js'), { landscape: { every: 2, stepSizes: [1, -2] } });
  assert.match(sizes.error!.message, /stepSizes must be/);
});

test('learningRate overrides the optimizer for the run, and bad values are rejected', async () => {
  const { report } = await runInProcess(fixture('known-gradients.js'), {
    steps: 2,
    learningRate: 0.2,
    landscape: { every: 1, ics: false },
  });
  assert.ok(report);
  // SGD(0.2) on y = x·W from the hand-checked fixture: loss 9, then W = [1, 1] − 0.2·[6, 12] → y = 1·(−0.2) + 2·(−1.4) = −3.
  assert.ok(Math.abs(report.loss[1]! - 9) < 1e-4, `loss after the SGD(0.2) step: ${report.loss[1]}`);
  assert.equal(report.landscape!.learningRate, 0.2);
  assert.equal(report.landscape!.samples[0].ics, undefined, 'ics: false skips ICS');
  const bad = await runInProcess(fixture('known-gradients.js'), { learningRate: -1 });
  assert.equal(bad.error?.code, 'bad-options');
});
