// A followed run log as run events (src/runlog/feed.ts): the layer table and a bounded pick of the kept samples at
// the start, then only what was appended, a restart when layers join the table, findings only when they change.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { STAT_NAMES, type Finding, type StepSample } from '../../src/protocol';
import type { ProgressEvent } from '../../src/protocol/worker';
import { pickSamples, RunLogFeed, thinInPlace } from '../../src/runlog/feed';
import { mapSources, readRunLog } from '../../src/runlog/read';
import { RunLogWriter } from '../../src/runlog/writer';
import { layerTable } from './runlog-fixtures';

const W = STAT_NAMES.length;

test('pickSamples keeps the budget: the newest half whole, the older ones at a stride, the first and the newest', () => {
  const samples = Array.from({ length: 1000 }, (_, i) => i);
  assert.deepEqual(pickSamples(samples, 10, 100_000), samples, 'all fit');
  const picked = pickSamples(samples, 10, 1000); // room for 100
  assert.ok(picked.length <= 100, `${picked.length}`);
  assert.equal(picked[0], 0);
  assert.equal(picked[picked.length - 1], 999);
  assert.deepEqual(picked.slice(-50), samples.slice(-50), 'the newest 50 whole');
  const gaps = picked
    .slice(0, -50)
    .map((v, i, a) => (i ? v - a[i - 1] : 0))
    .slice(1);
  assert.equal(new Set(gaps).size, 1, `an even stride: ${gaps.join(',')}`);
});

test('thinInPlace halves the older samples until the values fit, keeping the newest', () => {
  const samples: StepSample[] = Array.from({ length: 64 }, (_, step) => ({ step, loss: 0, stepMs: 1, values: new Array(10).fill(0) }));
  thinInPlace(samples, 200);
  assert.ok(samples.length * 10 <= 200, `${samples.length}`);
  assert.equal(samples[samples.length - 1].step, 63);
  assert.equal(samples[0].step, 0);
});

test('the feed starts with the table and samples, then sends only appended samples; a wider table restarts it', (t) => {
  const dir = fs.mkdtempSync(path.join(tmpdir(), 'normscope-feed-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const writer = new RunLogWriter({ dir, projectRoot: '/remote', engine: 'pytorch' });
  writer.layers(layerTable(2, '/remote/model.py'));
  const row = (n: number, v: number) => new Array(n * W).fill(v);
  for (let step = 0; step < 10; step++) writer.sample(step, 1, 2, row(2, step));
  const feed = new RunLogFeed('follow:x', dir, 2 * W * 6); // room for 6 samples at the start
  let log = readRunLog(dir);
  const start = feed.update(log, mapSources(log, '/here'), 10);
  assert.equal(start[0].type, 'layers');
  assert.equal(start[0].type === 'layers' && start[0].followed, log.dir);
  assert.equal(start[0].type === 'layers' && start[0].layers[0].source?.file, path.join('/here', 'model.py'));
  const first = start.slice(1).flatMap((e) => (e as ProgressEvent).samples);
  assert.ok(first.length <= 6 && first.length >= 4, `${first.length} samples at the start`);
  assert.equal(first[first.length - 1].step, 9);
  assert.equal(first[0].values.length, 2 * W);
  assert.deepEqual(feed.update(readRunLog(dir), log.layers, 10), [], 'nothing new');

  for (let step = 10; step < 13; step++) writer.sample(step, 1, 2, row(2, step));
  log = readRunLog(dir);
  const more = feed.update(log, log.layers, 13);
  assert.deepEqual(
    more.flatMap((e) => (e as ProgressEvent).samples.map((s) => s.step)),
    [10, 11, 12],
  );
  assert.equal(more[0].runId, start[0].runId);

  writer.layers([...layerTable(2, '/remote/model.py'), ...layerTable(1, '/remote/model.py', 2)]);
  writer.sample(13, 1, 2, row(3, 13));
  writer.close();
  log = readRunLog(dir);
  const again = feed.update(log, log.layers, 14);
  assert.equal(again[0].type, 'layers', 'a wider table restarts the run');
  assert.notEqual(again[0].runId, start[0].runId);
  const padded = again.slice(1).flatMap((e) => (e as ProgressEvent).samples);
  assert.equal(padded[0].values.length, 3 * W, 'older samples padded to the new table');
  assert.ok(Number.isNaN(padded[0].values[2 * W]), 'with NaN: the new layer was not measured then');
});

test('findings are sent when they change, not on every poll', () => {
  const feed = new RunLogFeed('follow:y', '/runs/y');
  const dead: Finding = {
    kind: 'dead',
    severity: 'error',
    layer: 'act1',
    step: 801,
    message: 'dead',
    source: { file: '/m.py', line: 9, column: 5 },
  };
  assert.equal(feed.findings([]), null, 'none, as at the start');
  assert.equal(feed.findings([dead])?.type, 'findings');
  assert.equal(feed.findings([{ ...dead }]), null);
  assert.equal(feed.findings([])?.type, 'findings', 'gone again');
});
