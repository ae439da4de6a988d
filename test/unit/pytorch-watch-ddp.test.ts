// normscope.watch under DistributedDataParallel (test/python/watch_ddp.py): 2 ranks on the CPU with gloo, started by
// hand (RANK/WORLD_SIZE/MASTER_ADDR/MASTER_PORT; Debian's torchrun fails on Python 3.11). Rank 0 alone writes one log
// whose statistics equal one process's over the concatenated batch; `normscope report` raises bn-per-device-batch on
// the BatchNorm's line; a rank killed mid-run leaves rank 0's log readable and no process behind.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { reportCommand } from '../../src/cli/report';
import type { RunReportJson } from '../../src/protocol';
import { readRunLog } from '../../src/runlog/read';
import { capturingIO } from './capture';
import { python, PYTHON_TESTS } from './runlog-fixtures';
import { freePort } from './free-port';

const FIXTURE = [path.resolve(__dirname, '../../../test/fixtures/pytorch/ddp'), path.resolve('test/fixtures/pytorch/ddp')].find((p) =>
  fs.existsSync(p),
)!;
const scratch = fs.mkdtempSync(path.join(tmpdir(), 'normscope-ddp-'));
after(() => fs.rmSync(scratch, { recursive: true, force: true }));

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
  pid: number;
}

function exited(child: ChildProcess): Promise<Exit> {
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, output, pid: child.pid! })));
}

/** Runs the script as `world` ranks (or once with --single) into $NORMSCOPE_DIR=`runs`; resolves when all exited. */
async function launch(runs: string, args: string[], world = 2): Promise<Exit[]> {
  const py = await python();
  const port = await freePort();
  const ranks = args.includes('--single') ? [0] : Array.from({ length: world }, (_, r) => r);
  return Promise.all(
    ranks.map((rank) =>
      exited(
        spawn(py.path, [path.join(PYTHON_TESTS, 'watch_ddp.py'), FIXTURE, ...args], {
          env: {
            ...py.env,
            NORMSCOPE_DIR: runs,
            RANK: String(rank),
            LOCAL_RANK: String(rank),
            WORLD_SIZE: String(world),
            MASTER_ADDR: '127.0.0.1',
            MASTER_PORT: String(port),
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        }),
      ),
    ),
  );
}

function onlyRun(runs: string): string {
  const found = fs.readdirSync(runs);
  assert.equal(found.length, 1, `one run folder, written by rank 0 alone: ${found.join(', ')}`);
  return path.join(runs, found[0]);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('2 ranks combined equal one process over the concatenated batch', async () => {
  const [ddpRuns, singleRuns] = [path.join(scratch, 'ddp'), path.join(scratch, 'single')];
  for (const e of await launch(ddpRuns, ['plain'])) assert.equal(e.code, 0, e.output);
  for (const e of await launch(singleRuns, ['plain', '--single'])) assert.equal(e.code, 0, e.output);
  const ddp = readRunLog(onlyRun(ddpRuns));
  const single = readRunLog(onlyRun(singleRuns));
  assert.equal(ddp.meta.worldSize, 2);
  assert.equal(ddp.meta.batchSize, 4, 'the per-device batch');
  assert.equal(ddp.meta.globalBatchSize, 8);
  assert.deepEqual(
    ddp.layers.map((l) => l.name),
    single.layers.map((l) => l.name),
  );
  assert.equal(ddp.samples.length, 6);
  const names = ddp.statNames;
  let compared = 0;
  ddp.samples.forEach((s, k) => {
    const t = single.samples[k];
    assert.equal(s.step, t.step);
    assert.ok(Math.abs(s.loss - t.loss) <= 1e-5 * Math.abs(t.loss), `loss at step ${s.step}: ${s.loss} vs ${t.loss}`);
    for (let i = 0; i < s.values.length; i++) {
      const [a, b] = [s.values[i], t.values[i]];
      const what = `${ddp.layers[Math.floor(i / names.length)].name}.${names[i % names.length]} at step ${s.step}`;
      assert.equal(Number.isNaN(a), Number.isNaN(b), what);
      if (Number.isNaN(a)) continue;
      assert.ok(Math.abs(a - b) <= 1e-6 + 1e-4 * Math.abs(b), `${what}: ${a} (2 ranks) vs ${b} (one process)`);
      compared++;
    }
  });
  assert.ok(compared > 300, `${compared} values compared`);
});

test('bn-per-device-batch is reported on the BatchNorm line of the log rank 0 wrote', async () => {
  const runs = path.join(scratch, 'bn');
  for (const e of await launch(runs, ['bn'])) assert.equal(e.code, 0, e.output);
  const run = onlyRun(runs);
  const { io, printed } = capturingIO();
  assert.equal(await reportCommand([run, '--json', '--root', FIXTURE], io), 0, printed.stderr);
  const json = JSON.parse(printed.stdout) as RunReportJson;
  const found = json.flags.filter((f) => f.kind === 'bn-per-device-batch');
  const lines = fs.readFileSync(path.join(FIXTURE, 'model.py'), 'utf8').split('\n');
  const line = lines.findIndex((l) => l.includes('self.bn = nn.BatchNorm2d(8)')) + 1;
  assert.deepEqual(
    found.map((f) => [f.layer, f.step, f.source?.file, f.source?.line]),
    [['bn', 0, path.join(FIXTURE, 'model.py'), line]],
  );
  assert.match(found[0].message, /2 processes .* from 4 examples, not the 8/);
  const ranks = fs
    .readFileSync(path.join(run, 'meta.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.includes('"type":"ranks"'))
    .map((l) => JSON.parse(l) as { batch: number[]; layers: Record<string, { mean: number[]; std: number[] }> });
  assert.equal(ranks.length, 1, 'per-rank BatchNorm statistics at the first sample');
  assert.deepEqual(ranks[0].batch, [4, 4]);
  assert.equal(ranks[0].layers['1'].mean.length, 2, "each rank's batch mean of the BatchNorm's input, side by side");
  assert.notEqual(ranks[0].layers['1'].mean[0], ranks[0].layers['1'].mean[1]);
});

test('a rank killed mid-run leaves rank 0 a readable log and no process behind', async () => {
  const runs = path.join(scratch, 'killed');
  const [zero, one] = await launch(runs, ['bn', '--steps', '40', '--die-at', '5']);
  assert.equal(one.signal, 'SIGKILL', one.output);
  assert.notEqual(zero.code, 0, 'rank 0 fails in its next collective instead of waiting for ever');
  assert.ok(!alive(zero.pid) && !alive(one.pid));
  const log = readRunLog(onlyRun(runs));
  // Steps 0-4 ran on both ranks; step 4's combination may have been in flight when rank 1 died (it completes at the
  // next sampled step), so rank 0's log holds at least steps 0-3.
  assert.ok(log.samples.length >= 4, `${log.samples.length} samples`);
  assert.deepEqual(
    log.samples.map((s) => s.step),
    Array.from({ length: log.samples.length }, (_, k) => k),
  );
  assert.equal(log.end?.reason, 'exception');
});
