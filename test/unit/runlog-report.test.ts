// `normscope report` on a run log written by the user's own PyTorch training: a ReLU that dies late (step 801 of 2000)
// in a log whose history is thinned to every 16th sample is reported on the line that built it, from the step it
// started — the samples around the onset were kept because the writer noticed it as it happened.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { reportCommand, writeJson } from '../../src/cli/report';
import type { RunReportJson } from '../../src/protocol';
import { readRunLog } from '../../src/runlog/read';
import { findingsEnd, runLogFindings } from '../../src/runlog/report';
import { capturingIO } from './capture';
import { python, PYTHON_TESTS, syntheticRun, writeWithTs } from './runlog-fixtures';

const FIXTURE = [
  path.resolve(__dirname, '../../../test/fixtures/pytorch/late_failure'),
  path.resolve('test/fixtures/pytorch/late_failure'),
].find((p) => fs.existsSync(p))!;
const dir = mkdtempSync(path.join(tmpdir(), 'normscope-report-'));
const log = path.join(dir, 'run');

before(async () => {
  const py = await python();
  await new Promise<void>((resolve, reject) =>
    execFile(
      py.path,
      [path.join(PYTHON_TESTS, 'runlog_late_failure.py'), log, FIXTURE],
      { env: py.env, timeout: 300_000 },
      (e, _out, err) => (e ? reject(new Error(`${e.message}\n${err}`)) : resolve()),
    ),
  );
});
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

async function report(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const { io, printed } = capturingIO();
  const code = await reportCommand(argv, io);
  return { code, ...printed };
}

test('a ReLU that dies at step 801 of 2000 is reported on its line, from step 801, in a thinned log', async () => {
  const written = readRunLog(log);
  assert.ok(written.stride >= 8, `the history was thinned (every ${written.stride}th sample)`);
  assert.ok(written.samples.length < 400, `${written.samples.length} of 2000 samples kept`);
  assert.ok(
    written.samples.some((s) => s.step === 801),
    'step 801 (not a multiple of the stride) is kept: it is in the window around the event',
  );

  const { code, stdout } = await report(log, '--json', '--root', FIXTURE);
  assert.equal(code, 0);
  const json = JSON.parse(stdout) as RunReportJson;
  assert.equal(json.steps, 2000);
  assert.equal(json.loss.length, 2000);
  assert.equal(json.batchSize, 16);
  const dead = json.flags.filter((f) => f.kind === 'dead');
  assert.equal(dead.length, 1, JSON.stringify(json.flags, null, 2));
  assert.equal(dead[0].layer, 'act2');
  assert.equal(dead[0].step, 801);
  assert.equal(dead[0].severity, 'error');
  const lines = fs.readFileSync(path.join(FIXTURE, 'model.py'), 'utf8').split('\n');
  assert.deepEqual(dead[0].source, {
    file: path.join(FIXTURE, 'model.py'),
    line: lines.findIndex((l) => l.includes('self.act2 = nn.ReLU()')) + 1,
    column: 21,
  });
  assert.match(dead[0].fix ?? '', /nn\.LeakyReLU/, 'PyTorch words in the fix');
  assert.deepEqual(
    json.layers.map((l) => l.name),
    ['fc1', 'act1', 'fc2', 'act2', 'head'],
  );
  assert.equal(json.layers[3].sampledSteps.length, written.samples.length);

  const text = await report(log, '--root', FIXTURE, '--fail-on', 'dead');
  assert.equal(text.code, 1, 'a --fail-on kind fails the command, as check does');
  assert.match(text.stdout, /line\s+severity\s+kind\s+from step\s+layer/);
  assert.match(text.stdout, /11:21\s+error\s+dead\s+801\s+act2/);
  assert.match(text.stdout, /ended normally/);
  assert.match(text.stdout, /thinned to every \d+th/);
});

test('report: thresholds, the kinds a log can fail on, and folders that are not a run', async () => {
  assert.equal((await report(log, '--threshold', 'deadFraction=0.99', '--fail-on', 'dead')).code, 1);
  const unknown = await report(log, '--threshold', 'deadness=0.5');
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown detector threshold 'deadness'/);
  const stat = await report(log, '--fail-on', 'bn-small-batch');
  assert.equal(stat.code, 2);
  assert.match(stat.stderr, /static ones come from `normscope lint`/);
  const none = await report(path.join(dir, 'nothing'));
  assert.equal(none.code, 2);
  assert.match(none.stderr, /nothing: no such folder/);
  const empty = path.join(dir, 'empty');
  fs.mkdirSync(empty, { recursive: true });
  assert.match((await report(empty)).stderr, /not a NormScope run, and no runs in it/);
});

test('report without a folder reads the newest run under $NORMSCOPE_DIR', async (t) => {
  const runs = path.join(dir, 'runs');
  // The newest by the run record's start, whatever the folder names.
  writeWithTs(syntheticRun({ layers: 2, steps: 5 }), {
    dir: path.join(runs, 'b-older'),
    meta: { started: '2020-01-01T00:00:00.000+00:00' },
  }).close();
  writeWithTs(syntheticRun({ layers: 4, steps: 5 }), { dir: path.join(runs, 'a-newer') }).close();
  const saved = process.env.NORMSCOPE_DIR;
  process.env.NORMSCOPE_DIR = runs;
  t.after(() => (saved === undefined ? delete process.env.NORMSCOPE_DIR : (process.env.NORMSCOPE_DIR = saved)));
  const { code, stdout } = await report('--json');
  assert.equal(code, 0);
  assert.equal((JSON.parse(stdout) as RunReportJson).layers.length, 4);
});

test('--json is written a layer at a time, and is exactly what JSON.stringify would print', () => {
  const value = {
    file: 'x',
    n: [1, null, 2],
    layers: [
      { a: 1, b: [0.5, null] },
      { a: 2, b: [] },
    ],
    empty: [],
    timing: { x: 1 },
    gone: undefined,
  };
  let out = '';
  writeJson(value, (text) => (out += text));
  assert.equal(out, `${JSON.stringify(value, null, 2)}\n`);
});

test('findings are read up to the first non-finite loss the optimizer did not skip, as a check stops there', () => {
  const lossAt = (run: ReturnType<typeof syntheticRun>, step: number) => {
    const op = run.ops.find((o) => (o[0] === 'sample' || o[0] === 'loss') && o[1] === step)!;
    return op[2] as number;
  };
  const run = syntheticRun({ layers: 4, steps: 120, dies: { layer: 1, step: 50 } });
  run.pool[lossAt(run, 20)] = Infinity; // an AMP overflow: the optimizer skipped the step
  run.pool[lossAt(run, 90)] = NaN; // the run broke here
  run.ops.splice(1, 0, ['skipped', 20, 'amp-overflow']);
  run.ops.push(['close', 'closed']);
  writeWithTs(run, { dir: path.join(dir, 'broke') });
  const log = readRunLog(path.join(dir, 'broke'));
  assert.equal(findingsEnd(log), 90);
  const findings = runLogFindings(log, log.layers);
  assert.deepEqual(
    findings.map((f) => [f.kind, f.layer, f.step]),
    [
      ['dead', 'act1', 50],
      ['non-finite', null, 90],
    ],
    'the skipped step 20 is no failure; the NaN at 90 ends what is read',
  );
  assert.match(findings[0].message, /^100% of the units of act1/, 'the dead layer as it was before the run broke');
});
