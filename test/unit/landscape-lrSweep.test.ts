// Learning-rate sensitivity (src/runner/lrSweep.ts): the pure pieces by hand, and on the sweep fixtures the
// LayerNorm variant of a 6-layer ReLU MLP reaches a good inference-mode loss over a wider range of rates than the plain one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { defaultRates, goodThreshold, parseRates, sweepLearningRates, tolerances, verdictOf } from '../../src/runner/lrSweep';
import { runTraining } from '../../src/worker/engine';
import { FIXTURES, runOptions } from './engine-fixtures';
import type { LrSweepCell } from '../../src/protocol';

test("default rates: 4 over 30× around the model's own, equal ratios", () => {
  const rates = defaultRates(1e-3);
  assert.equal(rates.length, 4);
  assert.ok(Math.abs(rates[3] / rates[0] - 30) < 0.2, `range ${rates[3] / rates[0]}`);
  assert.ok(Math.abs(Math.sqrt(rates[0] * rates[3]) - 1e-3) < 1e-5, 'centred on 1e-3 in log scale');
  assert.deepEqual(parseRates('1e-2, 1e-4,1e-3'), [1e-4, 1e-3, 1e-2]);
  assert.throws(() => parseRates('1e-3,abc'), /'abc' is not a positive number/);
  assert.throws(() => parseRates('1e-3'), /at least two/);
});

test('good threshold, widest neighbouring run and verdict, by hand', () => {
  const cell = (variant: string, learningRate: number, evalLoss: number | null): LrSweepCell => ({
    variant,
    learningRate,
    evalLoss,
    startLoss: 2.3,
  });
  const rates = [0.01, 0.1, 1, 10];
  const cells = [
    cell('none', 0.01, 2.0),
    cell('none', 0.1, 0.3),
    cell('none', 1, null),
    cell('none', 10, 0.5),
    cell('batchNorm', 0.01, 1.0),
    cell('batchNorm', 0.1, 0.2),
    cell('batchNorm', 1, 0.4),
    cell('batchNorm', 10, 3),
  ];
  const threshold = goodThreshold(cells)!;
  assert.ok(Math.abs(threshold - (0.2 + 0.5 * (2.3 - 0.2))) < 1e-12, 'best + half the gap to the start: 1.25');
  const tolerance = tolerances(cells, rates, ['none', 'batchNorm'], threshold);
  assert.deepEqual(tolerance, [
    { variant: 'none', goodRates: 1, low: 0.1, high: 0.1 },
    { variant: 'batchNorm', goodRates: 3, low: 0.01, high: 1 },
  ]);
  const verdict = verdictOf(cells, tolerance);
  assert.equal(verdict.best, 'batchNorm');
  assert.match(verdict.message, /batchNorm tolerates the widest range/);
});

test('on the sweep fixtures (6 dense ReLU layers, SGD), LayerNorm reaches a good inference-mode loss over a wider range of rates than the plain net', async () => {
  const fixtures = path.resolve(FIXTURES, '../landscape');
  const signal = new AbortController().signal;
  const variants = [
    {
      variant: 'none',
      options: runOptions(path.join(fixtures, 'sweep-plain.js'), { backend: 'wasm', seed: 3, steps: 60, samplingInterval: 10 }),
    },
    {
      variant: 'layerNorm',
      options: runOptions(path.join(fixtures, 'sweep-ln.js'), { backend: 'wasm', seed: 3, steps: 60, samplingInterval: 10 }),
    },
  ];
  const rates = [0.003, 0.01, 0.03, 0.1, 0.3, 1];
  const sweep = await sweepLearningRates((o) => runTraining(o, () => {}, signal), variants, rates, signal);
  const table = sweep.cells.map((c) => `${c.variant}@${c.learningRate}: ${c.evalLoss?.toFixed(3) ?? c.stoppedEarly ?? c.error}`).join('\n');
  console.log(`${table}\ngood ≤ ${sweep.goodLoss?.toFixed(3)}\n${sweep.message}`);
  const [plain, ln] = sweep.tolerance;
  assert.ok(ln.goodRates > plain.goodRates, `LayerNorm ${ln.goodRates} good rates vs plain ${plain.goodRates}`);
  assert.equal(sweep.best, 'layerNorm');
});
