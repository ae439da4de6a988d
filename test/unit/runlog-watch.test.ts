// Following a live run log written by another process: the follower (src/runlog/follow.ts) keeps up with appends,
// segments aging into the history and the end; `normscope watch` prints progress and each finding as it appears, and
// ends with the run, when its writer is gone, or says "stopped" while the log is quiet.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { watchCommand } from '../../src/cli/watch';
import { followRunLog } from '../../src/runlog/follow';
import { readRunLog } from '../../src/runlog/read';
import { capturingIO } from './capture';
import { within } from './processes';
import { python, PYTHON_TESTS, startPythonWriter, syntheticRun, type Op } from './runlog-fixtures';

const FIXTURE = [
  path.resolve(__dirname, '../../../test/fixtures/pytorch/late_failure'),
  path.resolve('test/fixtures/pytorch/late_failure'),
].find((p) => fs.existsSync(p))!;

function scratch(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'normscope-watch-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A PyTorch training (test/python/runlog_late_failure.py) that pauses between steps; resolves once it logged step 0. */
async function liveTraining(log: string, args: string[]): Promise<{ child: ChildProcess; exited: Promise<number | null> }> {
  const py = await python();
  const child = spawn(py.path, [path.join(PYTHON_TESTS, 'runlog_late_failure.py'), log, FIXTURE, ...args], { env: py.env });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.ok(await within(60_000, () => out.includes('step 0\n') || child.exitCode !== null), `the training did not start: ${err}`);
  return { child, exited };
}

test('the follower keeps up with a run being written: appends, aging into the history, the end', async (t) => {
  const log = path.join(scratch(t), 'run');
  const { exited } = await liveTraining(log, ['--steps', '400', '--dies', '150', '--budget', '100000', '--sleep', '0.005']);
  const counts: number[] = [];
  let rebuilt = 0;
  const follower = followRunLog(
    log,
    (l, change) => {
      counts.push(l.samples.length);
      if (change.rebuilt) rebuilt++;
    },
    { intervalMs: 50 },
  );
  t.after(() => follower.close());
  assert.ok(await within(120_000, () => follower.log?.end !== null && follower.log?.end !== undefined), 'the end record arrived');
  assert.equal(await exited, 0);
  assert.ok(new Set(counts).size > 5, `the samples grew while the run went on: ${counts.join(',')}`);
  assert.ok(rebuilt > 0, 'segments aged into the history while followed');
  const onDisk = readRunLog(log);
  follower.poll();
  assert.deepEqual(
    follower.log!.samples.map((s) => s.seq),
    onDisk.samples.map((s) => s.seq),
    'the follower holds what the folder holds, no more',
  );
  assert.ok(onDisk.stride > 1);
});

test('normscope watch follows a PyTorch run as it trains: the dead layer appears with its line and step, then the end', async (t) => {
  const log = path.join(scratch(t), 'run');
  const { exited } = await liveTraining(log, ['--steps', '300', '--dies', '101', '--sleep', '0.01']);
  const { io, printed } = capturingIO();
  const code = await watchCommand([log, '--root', FIXTURE, '--fail-on', 'dead'], io, { intervalMs: 50 });
  assert.equal(await exited, 0);
  assert.equal(code, 1, `--fail-on dead:\n${printed.stdout}\n${printed.stderr}`);
  assert.match(printed.stdout, /^normscope watch: .*run \(pytorch on .*, every 1 step\)$/m);
  assert.match(printed.stdout, /error dead act2 at .*model\.py:11:21, from step 101\n\s+100% of the units of act2/);
  assert.match(printed.stdout, /^step 299 {2}loss \S+ {2}\S+ steps\/s {2}last write \d+ s ago {2}\(\d+ samples, 1 finding\)$/m);
  assert.match(printed.stdout, /ended normally at .*; 1 finding$/m);
  assert.ok(
    printed.stdout.indexOf('error dead') < printed.stdout.indexOf('ended normally'),
    'the finding was printed while the run went on',
  );
});

/** A run written by test/python/runlog_write.py: its first `split` steps, then `tail` (a pause, an exit …), then the rest. */
async function writer(dir: string, split: number, tail: Op[]): Promise<ChildProcess> {
  const run = syntheticRun({ layers: 2, steps: 25 });
  const at = run.ops.findIndex((op) => (op[0] === 'sample' || op[0] === 'loss') && op[1] === split);
  run.ops.splice(at, 0, ['print', 'written'], ...tail);
  run.ops.push(['close', 'closed']);
  const child = await startPythonWriter(run, { dir: path.join(dir, 'run') }, path.join(dir, 'py'));
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  assert.ok(await within(60_000, () => out.includes('written')), 'the writer wrote');
  return child;
}

test('normscope watch says "stopped" when the writer on this machine is gone without an end record (killed)', async (t) => {
  const dir = scratch(t);
  const child = await writer(dir, 20, [['exit']]);
  await new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.on('exit', resolve)));
  const { io, printed } = capturingIO();
  const code = await watchCommand([path.join(dir, 'run')], io, { intervalMs: 50 });
  assert.equal(code, 0);
  assert.match(printed.stdout, new RegExp(`stopped: process ${child.pid} is gone and left no end record \\(killed\\?\\)`));
});

test('normscope watch says "stopped" when the log goes quiet and "resumed" when it writes again', async (t) => {
  const dir = scratch(t);
  const child = await writer(dir, 20, [['sleep', 3]]);
  const { io, printed } = capturingIO();
  const code = await watchCommand([path.join(dir, 'run'), '--quiet', '1'], io, { intervalMs: 50 });
  await new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.on('exit', resolve)));
  assert.equal(code, 0, printed.stderr);
  assert.match(printed.stdout, /stopped: no write for \d+ s \(the run may have been killed, or be paused\)\n(?:step .*\n)?resumed\n/);
  assert.match(printed.stdout, /resumed/);
  assert.match(printed.stdout, /ended normally/);
});
