import assert from 'node:assert/strict';
import { test } from 'node:test';
import { layerInfo, panelRun } from './run-fixtures';
import { csvField, csvRow, runToCsv } from '../../webview/csv';
import { RunStore } from '../../webview/store';

test('csvField quotes per RFC 4180 only when needed', () => {
  assert.equal(csvField('plain'), 'plain');
  assert.equal(csvField('a,b'), '"a,b"');
  assert.equal(csvField('say "hi"'), '"say ""hi"""');
  assert.equal(csvField('two\nlines'), '"two\nlines"');
  assert.equal(csvField('cr\r'), '"cr\r"');
  assert.equal(csvField(''), '');
  assert.equal(csvField(null), '');
  assert.equal(csvField(Number.NaN), '');
  assert.equal(csvField(Infinity), '');
  assert.equal(csvField(1.5e-7), '1.5e-7');
  assert.equal(csvRow(['x', 1, null, '<img src=x onerror=alert(1)>']), 'x,1,,<img src=x onerror=alert(1)>');
});

test("runToCsv writes one row per layer × step, with the run's stat order", () => {
  const run = panelRun([], {
    layers: [layerInfo(0, 'dense,1'), layerInfo(1, 'bn "x"', { className: 'BatchNormalization', isNorm: true })],
    statNames: ['gradNorm', 'mean'],
    steps: 2,
  });
  const store = new RunStore(run);
  // values arrive over JSON: null where NaN was
  store.add([
    { step: 0, loss: 2, stepMs: 3, values: [0.5, 1, null as unknown as number, 2] },
    { step: 1, loss: 1.5, stepMs: 3, values: [0.25, 1, 3, 4] },
  ]);
  const lines = runToCsv(store).split('\r\n');
  assert.equal(lines[0], 'step,loss,stepMs,layerIndex,layerName,layerClass,gradNorm,mean');
  assert.equal(lines[1], '0,2,3,0,"dense,1",Dense,0.5,1');
  assert.equal(lines[2], '0,2,3,1,"bn ""x""",BatchNormalization,,2');
  assert.equal(lines[3], '1,1.5,3,0,"dense,1",Dense,0.25,1');
  assert.equal(lines[4], '1,1.5,3,1,"bn ""x""",BatchNormalization,3,4');
  assert.equal(lines[5], '');
  assert.equal(lines.length, 6);
});
