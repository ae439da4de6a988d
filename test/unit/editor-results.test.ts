import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findingRange, severityRank } from '../../src/editor/findingRanges';
import { replay, toPanelMessage } from '../../src/panel/panelMessages';
import { RunResults } from '../../src/host/runResults';
import { readSettings } from '../../src/host/settings';
import { runSummary } from '../../src/editor/summary';
import { STAT_NAMES, type Finding, type LayerInfo, type RunReport } from '../../src/protocol/run';
import { layerInfo } from './run-fixtures';

const at = (line: number, column: number) => ({ file: '/a.js', line, column });
const layers: LayerInfo[] = [
  layerInfo(0, 'd0', { outputShape: [null, 4], paramCount: 20, source: at(5, 13) }),
  layerInfo(1, 'd1', { outputShape: [null, 4], paramCount: 20, source: at(5, 13) }),
  layerInfo(2, 'bn', { className: 'BatchNormalization', outputShape: [null, 4], paramCount: 16, isNorm: true, source: at(8, 3) }),
];
const row = (layerValue: (layer: number, stat: number) => number) => layers.flatMap((_, l) => STAT_NAMES.map((_, s) => layerValue(l, s)));
const dead: Finding = {
  kind: 'dead',
  severity: 'warning',
  layer: 'd1',
  step: 3,
  message: 'dead',
  source: { file: '/a.js', line: 5, column: 13 },
};

function startedRun(results: RunResults, runId = 'r1', file = '/a.js') {
  results.begin(runId, file);
  results.apply({ type: 'backend', runId, backend: { name: 'wasm', notes: ['tensorflow: not installed'] } });
  results.apply({ type: 'layers', runId, file, layers, statNames: STAT_NAMES, steps: 10, batchSize: 8, syntheticData: true });
}

test('RunResults streams samples and answers per-line snapshots for loops', () => {
  const results = new RunResults();
  const changed: string[] = [];
  results.onDidChange((f) => changed.push(f));
  startedRun(results);
  results.apply({
    type: 'progress',
    runId: 'r1',
    samples: [0, 1].map((step) => ({ step, loss: 1 - step / 10, stepMs: 5, values: row((l, s) => l * 100 + s + step) })),
  });
  const atLine5 = results.layersAtLine('/a.js', 5);
  assert.deepEqual(
    atLine5.map((s) => s.layer.name),
    ['d0', 'd1'],
  );
  assert.equal(atLine5[1].latest.mean, 101);
  assert.equal(atLine5[1].step, 1);
  assert.deepEqual(atLine5[1].series('variance'), [101, 102]);
  assert.ok(changed.length >= 3);
});

test('a new run of a file replaces the previous one and late events of the old run are ignored', () => {
  const results = new RunResults();
  startedRun(results, 'r1');
  startedRun(results, 'r2');
  assert.equal(results.apply({ type: 'findings', runId: 'r1', findings: [dead] }), undefined);
  assert.deepEqual(results.get('/a.js')?.findings, []);
  startedRun(results, 'r3', '/b.js');
  assert.equal(results.all().length, 2, 'runs of different files are kept apart');
});

test('done, error and host-side failure set the status', () => {
  const results = new RunResults();
  startedRun(results);
  const report = { findings: [dead], stoppedEarly: 'cancelled' } as unknown as RunReport;
  results.apply({ type: 'done', runId: 'r1', report });
  assert.equal(results.get('/a.js')?.status, 'cancelled');
  assert.deepEqual(results.get('/a.js')?.findings, [dead]);
  results.fail('r1', { code: 'crash', message: 'late' });
  assert.equal(results.get('/a.js')?.status, 'cancelled', 'a finished run is not failed afterwards');
  startedRun(results, 'r2');
  results.fail('r2', { code: 'timeout', message: 'took too long' });
  assert.equal(results.get('/a.js')?.status, 'failed');
});

test('findingRange puts the squiggle on the layer call, else on the trimmed line', () => {
  const lines = ['', '', '', '', '  model.add(tf.layers.dense({ units: 4 }));   '];
  const calls = [{ line: 5, column: 13, calleeStart: 100, calleeEnd: 115 }];
  assert.deepEqual(findingRange(dead, lines, calls), { line: 4, startCharacter: 12, endCharacter: 27 });
  assert.deepEqual(findingRange(dead, lines, []), { line: 4, startCharacter: 2, endCharacter: 43 });
  assert.equal(findingRange({ ...dead, source: null }, lines, calls), undefined);
  const pastEnd = findingRange({ ...dead, source: { file: '/a.js', line: 99, column: 1 } }, lines, []);
  assert.equal(pastEnd?.line, 4, 'a line past the end is clamped to the last line');
  assert.deepEqual([severityRank('error'), severityRank('warning'), severityRank('info')], [0, 1, 2]);
});

test('worker events become panel messages, and replay rebuilds a fresh panel', () => {
  const results = new RunResults();
  startedRun(results);
  const started = toPanelMessage(
    { type: 'layers', runId: 'r1', file: '/a.js', layers, statNames: STAT_NAMES, steps: 10, batchSize: 8, syntheticData: true },
    { name: 'wasm', notes: [] },
  );
  assert.equal(started?.type, 'run-started');
  assert.equal(started?.type === 'run-started' && started.run.backend?.name, 'wasm');
  assert.equal(toPanelMessage({ type: 'backend', runId: 'r1', backend: { name: 'cpu', notes: [] } }), undefined);
  results.apply({ type: 'progress', runId: 'r1', samples: [{ step: 0, loss: 1, stepMs: 2, values: row(() => 0) }] });
  const messages = replay(results.get('/a.js')!);
  assert.equal(messages.length, 1);
  assert.equal(messages[0].type === 'run-started' && messages[0].samples.length, 1);
});

test('runSummary counts findings by kind and names the backend', () => {
  const results = new RunResults();
  startedRun(results);
  results.apply({
    type: 'done',
    runId: 'r1',
    report: { findings: [dead, { ...dead, layer: 'd0' }, { ...dead, kind: 'exploding' }] } as unknown as RunReport,
  });
  assert.equal(runSummary(results.get('/a.js')!), '2 dead · 1 exploding · backend wasm');
});

test('settings are typed and clamped', () => {
  const s = readSettings({
    get: <T>(k: string) => (({ steps: 0, batchSize: 7.9, backend: 'gpu', seed: 3 }) as Record<string, unknown>)[k] as T,
  });
  assert.equal(s.steps, 50);
  assert.equal(s.batchSize, 7);
  assert.equal(s.backend, 'auto');
  assert.equal(s.seed, 3);
});

test("a training script's run answers for the lines of the model file its layers were built in", () => {
  const results = new RunResults();
  startedRun(results, 'script-run', '/train.js');
  results.apply({ type: 'progress', runId: 'script-run', samples: [{ step: 0, loss: 1, stepMs: 2, values: row((l) => l + 1) }] });
  assert.equal(results.runAtLine('/a.js', 8)?.runId, 'script-run');
  assert.deepEqual(
    results.layersAtLine('/a.js', 8).map((s) => [s.layer.name, s.latest.mean]),
    [['bn', 3]],
  );
  assert.equal(results.runAtLine('/a.js', 99), undefined, 'no layer was built on that line');
  // A run of the model file itself wins for its own lines.
  startedRun(results, 'own-run', '/a.js');
  assert.equal(results.runAtLine('/a.js', 8)?.runId, 'own-run');
});
