import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PanelRun, StepSample } from '../../src/protocol';
import { RunStore } from '../../webview/store';
import { panelRun } from './run-fixtures';

function makeRun(layers: number, statNames?: PanelRun['statNames']): PanelRun {
  return panelRun(layers, statNames ? { statNames } : {});
}
const sample = (step: number, layers: number, stats: number): StepSample => ({
  step,
  loss: 1 / (step + 1),
  stepMs: 2,
  values: Array.from({ length: layers * stats }, (_, k) => step * 1000 + k),
});

test('series reads [layer][stat] rows back by column, across growth', () => {
  const store = new RunStore(makeRun(3));
  for (let s = 0; s < 150; s++) store.add([sample(s, 3, 2)]); // grows past the initial capacity
  assert.equal(store.size, 150);
  const g2 = store.series('gradNorm', 2);
  assert.equal(g2.length, 150);
  assert.equal(g2[0], 5); // layer 2, stat 1 → index 2*2+1
  assert.equal(g2[149], 149 * 1000 + 5);
  assert.equal(store.series('mean', 1)[7], 7 * 1000 + 2);
  assert.equal(store.latest('mean', 0), 149 * 1000);
  assert.equal(store.series('variance', 0).length, 0, 'unmeasured stat is empty');
  const r = store.range('gradNorm');
  assert.equal(r.min, 1);
  assert.equal(r.max, 149 * 1000 + 5);
  assert.equal(r.minPositive, 1);
  assert.equal(r.hasNegative, false);
});

test('null values (NaN over JSON) are stored as NaN; replayed steps are skipped', () => {
  const store = new RunStore(makeRun(1));
  store.add([{ step: 1, loss: null as unknown as number, stepMs: 1, values: [null as unknown as number, 2] }]);
  assert.ok(Number.isNaN(store.loss[0]));
  assert.ok(Number.isNaN(store.series('mean', 0)[0]));
  const v = store.version;
  assert.equal(store.add([{ step: 1, loss: 1, stepMs: 1, values: [1, 1] }]), 0);
  assert.equal(store.version, v, 'nothing changed');
  assert.ok(Number.isNaN(store.latest('mean', 0)));
});

test('a late sample is inserted in step order and marks a rewrite', () => {
  const store = new RunStore(makeRun(2));
  for (const step of [0, 1, 2, 5, 6]) store.add([sample(step, 2, 2)]);
  assert.equal(store.rewrites, 0);
  assert.equal(store.add([sample(4, 2, 2), sample(3, 2, 2), sample(3, 2, 2)]), 2);
  assert.equal(store.rewrites, 2);
  assert.deepEqual(Array.from(store.steps.subarray(0, store.size)), [0, 1, 2, 3, 4, 5, 6]);
  assert.deepEqual(
    Array.from(store.series('gradNorm', 1)),
    [0, 1, 2, 3, 4, 5, 6].map((s) => s * 1000 + 3),
  );
  assert.deepEqual(
    Array.from(store.series('mean', 0)),
    [0, 1, 2, 3, 4, 5, 6].map((s) => s * 1000),
  );
});

test('a sample with the wrong row length is rejected with a clear message', () => {
  const store = new RunStore(makeRun(2));
  assert.throws(
    () => store.add([{ step: 0, loss: 1, stepMs: 1, values: [1, 2, 3] }]),
    /step 0 of run run has 3 values, expected 4 \(2 layers × 2 statistics\)/,
  );
});

test('memory cap thins old samples and keeps the newest', () => {
  const store = new RunStore(makeRun(2), 2 * 2 * 50);
  for (let s = 0; s < 200; s++) store.add([sample(s, 2, 2)]);
  assert.ok(store.size <= 50, `size ${store.size}`);
  assert.ok(store.thinned > 0);
  assert.equal(store.steps[store.size - 1], 199);
  for (let i = 1; i < store.size; i++) assert.ok(store.steps[i] > store.steps[i - 1]);
  // the columns were compacted with the steps
  for (let i = 0; i < store.size; i++) assert.equal(store.series('gradNorm', 1)[i], store.steps[i] * 1000 + 3);
});

test('findingsOf matches findings by layer name', () => {
  const store = new RunStore(makeRun(2));
  store.setFindings([
    { kind: 'dead', severity: 'error', layer: 'l1', step: 3, message: 'dead', source: null },
    { kind: 'exploding', severity: 'warning', layer: null, step: 4, message: 'loss', source: null },
  ]);
  assert.deepEqual(
    store.findingsOf(1).map((f) => f.kind),
    ['dead'],
  );
  assert.deepEqual(store.findingsOf(0), []);
});
