// A followed run's step axis in the panel (webview/store.ts `axisEnd`): its length is unknown, so the axis ends at a
// round number past the newest step and stays there for many polls — a moving axis would redraw every line each time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { STAT_NAMES, type PanelRun } from '../../src/protocol';
import { niceCeil, RunStore } from '../../webview/store';

const run = (followed?: string): PanelRun => ({
  runId: 'r',
  file: '/f.py',
  layers: [],
  statNames: STAT_NAMES,
  steps: 50,
  batchSize: 1,
  syntheticData: false,
  ...(followed ? { followed } : {}),
});

test('niceCeil rounds up to 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × 10^k', () => {
  assert.deepEqual([9, 10, 11, 110_011, 130_000, 0.7].map(niceCeil), [10, 10, 12, 120_000, 150_000, 0.8]);
});

test("a check run's axis is its length; a followed run's moves only when the run passes a round number", () => {
  assert.equal(new RunStore(run()).axisEnd, 50);
  const store = new RunStore(run('/runs/x'));
  const ends: number[] = [];
  for (let step = 100_000; step < 101_000; step += 10) {
    store.add([{ step, loss: 1, stepMs: 1, values: [] }]);
    ends.push(store.axisEnd);
  }
  assert.deepEqual([...new Set(ends)], [120_000], 'one axis for the 1,000 steps after step 100,000');
  assert.ok(ends[0] > 100_000 * 1.09);
});
