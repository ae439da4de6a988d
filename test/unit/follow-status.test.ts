// The editor's view of run logs (src/runlog/status.ts): which local folder a run's relative paths map onto (also a
// run made on another machine with another root), live / stopped / ended, the newest step, and the summary the
// Training Runs view lists (with the runs found under .normscope/runs, newest first).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { reportCommand } from '../../src/cli/report';
import { STAT_NAMES } from '../../src/protocol';
import { listRuns, readRunLog } from '../../src/runlog/read';
import { editorRoot, latestStep, runLiveness, summarizeRun } from '../../src/runlog/status';
import { RunLogWriter } from '../../src/runlog/writer';
import { capturingIO } from './capture';
import { layerTable } from './runlog-fixtures';

function scratch(t: { after(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(tmpdir(), 'normscope-follow-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A run whose writer's root is `/cluster/home/me/proj` (not on this machine), script `src/train.py`. */
function remoteRun(dir: string, steps: number, options: { close?: boolean; deadAt?: number } = {}): void {
  const writer = new RunLogWriter({
    dir,
    script: '/cluster/home/me/proj/src/train.py',
    projectRoot: '/cluster/home/me/proj',
    engine: 'pytorch',
  });
  writer.layers(layerTable(4, '/cluster/home/me/proj/src/model.py'));
  const dead = STAT_NAMES.indexOf('deadFraction');
  for (let step = 0; step < steps; step++) {
    const values = new Array(4 * STAT_NAMES.length).fill(0.5);
    for (let layer = 0; layer < 4; layer++) values[layer * STAT_NAMES.length + dead] = 0.05;
    if (options.deadAt !== undefined && step >= options.deadAt) values[1 * STAT_NAMES.length + dead] = 1;
    writer.sample(step, 1 / (step + 1), 3, values);
  }
  if (options.close !== false) writer.close();
}

test('paths relative to the root of another machine map onto the workspace folder that has the files', (t) => {
  const base = scratch(t);
  const run = path.join(base, 'copied-runs', 'r1');
  remoteRun(run, 3);
  const log = readRunLog(run);
  assert.equal(log.layers[0].source?.file, 'src/model.py', 'the writer recorded the path relative to its root');
  const other = path.join(base, 'other');
  const checkout = path.join(base, 'checkout');
  fs.mkdirSync(path.join(checkout, 'src'), { recursive: true });
  fs.mkdirSync(other);
  fs.writeFileSync(path.join(checkout, 'src', 'model.py'), '');
  assert.equal(editorRoot(log, [other, checkout]), checkout, 'the folder where src/model.py exists');
  assert.equal(editorRoot(log, [other]), other, 'no folder has the files: the first');
  assert.equal(editorRoot(log, []), null);
  // A workspace one folder above the project (named as the writer's root was): the sub-folder.
  const parent = path.join(base, 'parent');
  fs.mkdirSync(path.join(parent, 'proj', 'src'), { recursive: true });
  fs.writeFileSync(path.join(parent, 'proj', 'src', 'train.py'), '');
  assert.equal(editorRoot(log, [parent]), path.join(parent, 'proj'));
});

test('a run under <folder>/.normscope/runs maps onto that folder; runs are listed newest first', (t) => {
  const ws = scratch(t);
  const runs = path.join(ws, '.normscope', 'runs');
  remoteRun(path.join(runs, 'a'), 2);
  remoteRun(path.join(runs, 'b'), 2);
  fs.mkdirSync(path.join(runs, 'not-a-run'));
  const listed = listRuns(runs).map((r) => path.basename(r.dir));
  assert.deepEqual([...listed].sort(), ['a', 'b'], 'a folder without meta.jsonl is no run');
  const log = readRunLog(path.join(runs, 'a'));
  const elsewhere = scratch(t);
  assert.equal(editorRoot(log, [elsewhere, ws]), ws, 'no file to check: the folder holding the run');
  fs.mkdirSync(path.join(elsewhere, 'src'));
  fs.writeFileSync(path.join(elsewhere, 'src', 'model.py'), '');
  assert.equal(editorRoot(log, [ws, elsewhere]), elsewhere, "the holding folder lacks the run's files, another has them");
});

test('live, stopped when quiet or when its writer here is gone, ended with the end record', (t) => {
  const dir = path.join(scratch(t), 'run');
  remoteRun(dir, 5, { close: false });
  const log = readRunLog(dir);
  const now = log.lastWriteTime + 1000;
  const far = { host: 'this-machine', alive: () => false };
  assert.equal(runLiveness(log, { now, quietMs: 60_000, ...far }), 'live', 'another machine: the quiet time decides');
  assert.equal(runLiveness(log, { now: log.lastWriteTime + 61_000, quietMs: 60_000, ...far }), 'stopped');
  assert.equal(runLiveness(log, { now, quietMs: 60_000, host: log.meta.host, alive: () => false }), 'stopped', 'its process here is gone');
  assert.equal(runLiveness(log, { now, quietMs: 60_000, host: log.meta.host, alive: () => true }), 'live');
  assert.deepEqual(latestStep(log), { step: 4, loss: 1 / 5 });
  const ended = path.join(scratch(t), 'ended');
  remoteRun(ended, 5);
  assert.equal(runLiveness(readRunLog(ended), { now: Date.now() + 3_600_000 }), 'ended');
});

test('the summary names the state, script, steps and the findings on the mapped lines', (t) => {
  const ws = scratch(t);
  const dir = path.join(ws, '.normscope', 'runs', 'late');
  remoteRun(dir, 120, { deadAt: 90 });
  const log = readRunLog(dir);
  const s = summarizeRun(log, ws);
  assert.equal(s.liveness, 'ended');
  assert.equal(s.endReason, 'closed');
  assert.equal(s.script, 'src/train.py');
  assert.equal(s.steps, 120);
  const dead = s.findings.find((f) => f.kind === 'dead');
  assert.ok(dead, JSON.stringify(s.findings.map((f) => f.kind)));
  assert.equal(dead.layer, 'act1');
  assert.equal(dead.source?.file, path.join(ws, 'src', 'model.py'));
  assert.equal(dead.source?.line, 11);
  assert.equal(dead.step, 90);
});

test('`normscope report` of a run still writing says how to follow it; of an ended one it does not', async (t) => {
  const base = scratch(t);
  const live = path.join(base, 'live');
  remoteRun(live, 3, { close: false }); // written by this process, which is alive: live
  const ended = path.join(base, 'ended');
  remoteRun(ended, 3);
  for (const [dir, expected] of [
    [live, true],
    [ended, false],
  ] as const) {
    const { io, printed } = capturingIO();
    assert.equal(await reportCommand([dir], io), 0, printed.stderr);
    assert.equal(/still writing; follow it with `normscope watch .*Follow Training Run/.test(printed.stderr), expected, printed.stderr);
  }
});
