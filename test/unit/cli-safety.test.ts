// The CLI as a user runs it (node dist/cli.js, real processes and signals): runs that cannot escape,
// exit codes, static kinds in check, odd paths and files, and all-or-nothing writes. Times are only
// bounded generously by polling (scripts/measure-supervision.mjs prints the real numbers).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { sourcePath } from '../../src/userCode/sourceMap';
import { writeAllOrNothing, WriteError } from '../../src/cli/writeAll';
import { fixture, WORKER } from './engine-fixtures';
import { childOf, running, sleep } from './processes';

const CLI = join(dirname(WORKER), 'cli.js');
const ROOT = join(dirname(WORKER), '..');

function cli(args: string[], options: { cwd?: string; uid?: number; gid?: number } = {}, cliPath = CLI) {
  const r = spawnSync(process.execPath, [cliPath, ...args], { encoding: 'utf8', timeout: 120_000, ...options });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('kill -9 of the CLI during for(;;){} leaves no worker process running after 2 s', async () => {
  const child = spawn(process.execPath, [CLI, 'check', fixture('errors/infinite-loop.js')], { stdio: 'ignore' });
  const worker = await childOf(child.pid!, 'worker.js');
  await sleep(1500); // the model is spinning in createModel now
  assert.ok(running(worker));
  child.kill('SIGKILL');
  const killed = Date.now();
  while (running(worker) && Date.now() - killed < 2000) await sleep(20);
  assert.equal(running(worker), false, 'the worker outlived its CLI by more than 2 s');
});

test(
  'Ctrl-C of the process group during a busy loop exits 130 with the partial report',
  { skip: process.platform === 'win32' },
  async () => {
    const child = spawn(process.execPath, [CLI, 'check', fixture('../workspace/busy.js')], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => {
      stdout += d;
    });
    child.stderr!.on('data', (d) => {
      stderr += d;
    });
    await childOf(child.pid!, 'worker.js');
    await sleep(3000);
    process.kill(-child.pid!, 'SIGINT');
    const interrupted = Date.now();
    const code = await new Promise((r) => child.on('exit', r));
    assert.equal(code, 130, stderr);
    assert.ok(Date.now() - interrupted < 1000 + 500, 'the run ended soon after Ctrl-C'); // generous: 1 s + process exit
    assert.match(stdout, /stopped early: cancelled/);
    assert.match(stderr, /cancelled after \d+ step/);
  },
);

test('SIGTERM to the CLI alone while the model spins in createModel cancels: exit 130, nothing to report', async () => {
  const child = spawn(process.execPath, [CLI, 'check', fixture('errors/infinite-loop.js')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => {
    stderr += d;
  });
  const worker = await childOf(child.pid!, 'worker.js');
  await sleep(1500);
  child.kill('SIGTERM');
  const code = await new Promise((r) => child.on('exit', r));
  assert.equal(code, 130, stderr);
  assert.match(stderr, /cancelled/);
  const exited = Date.now();
  while (running(worker) && Date.now() - exited < 2000) await sleep(20);
  assert.equal(running(worker), false, 'the worker outlived its CLI');
});

test('check reports static findings, so --fail-on a static kind works; model.json rejects static kinds', () => {
  const recurrent = join(ROOT, 'test/fixtures/detectors/bn-in-recurrent.js');
  const r = cli(['check', recurrent, '--steps', '2', '--json', '--fail-on', 'bn-in-recurrent']);
  assert.equal(r.code, 1, r.stderr);
  assert.ok(JSON.parse(r.stdout).flags.some((f: { kind: string; step: number | null }) => f.kind === 'bn-in-recurrent' && f.step === null));
  const json = cli(['check', fixture('model-json/model.json'), '--fail-on', 'post-norm']);
  assert.equal(json.code, 2);
  assert.match(json.stderr, /static findings come from JS\/TS source/);
});

test('--timeout and --max-memory stop the run with a message naming the flag', () => {
  const slow = cli(['check', fixture('errors/infinite-loop.js'), '--timeout', '1']);
  assert.equal(slow.code, 2);
  assert.match(slow.stderr, /longer than 1 s \(--timeout\)/);
  const big = cli(['check', fixture('errors/big-buffers.js'), '--max-memory', '512']);
  assert.equal(big.code, 2);
  assert.match(big.stderr, /limit 512 MB\).*--max-memory/s);
});

test('a model that writes a file or spawns `id` under check is refused, naming its line', () => {
  const write = cli(['check', fixture('errors/writes-file.js')]);
  assert.equal(write.code, 2);
  assert.match(write.stderr, /writes-file\.js:7:\d+: .*not allowed to write/);
  assert.ok(!existsSync(fixture('errors/written-by-model.txt')));
  const spawned = cli(['check', fixture('errors/spawns-id.js')]);
  assert.equal(spawned.code, 2);
  assert.match(spawned.stderr, /spawns-id\.js:6:\d+: .*not allowed to start programs/);
  assert.match(spawned.stderr, /--no-restrict/);
});

test('a model in "dir ü 模型/thröw ☃.js" gets its error and layer lines on the real file', () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'normscope-paths-')), 'dir ü 模型');
  mkdirSync(dir);
  try {
    const file = join(dir, 'thröw ☃.js');
    writeFileSync(
      file,
      "const tf = require('@tensorflow/tfjs');\n\nfunction createModel() {\n  throw new Error('boom');\n}\nmodule.exports = { createModel };\n",
    );
    const r = cli(['check', file]);
    assert.equal(r.code, 2);
    assert.ok(r.stderr.includes(`${file}:4:`), r.stderr);
    const model = join(dir, 'model ✓.js');
    writeFileSync(
      model,
      "const tf = require('@tensorflow/tfjs');\nmodule.exports = tf.sequential({\n  layers: [tf.layers.dense({ inputShape: [4], units: 2 })],\n});\n",
    );
    const ok = cli(['check', model, '--steps', '2', '--json']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual(JSON.parse(ok.stdout).layers[0].source, { file: model, line: 3, column: 22 });
  } finally {
    rmSync(dirname(dir), { recursive: true, force: true });
  }
});

test('source-map sources are decoded: relative percent-escapes and file:// URLs', () => {
  assert.equal(sourcePath('thr%C3%B6w%20%E2%98%83.js', '/a/dir ü'), '/a/dir ü/thröw ☃.js');
  assert.equal(sourcePath('file:///a/dir%20%C3%BC/m.js', '/x'), '/a/dir ü/m.js');
  assert.equal(sourcePath('100%.js', '/a'), '/a/100%.js');
});

test('module.exports = 42, a directory and a binary file each get a message saying what they are', () => {
  assert.match(cli(['check', fixture('errors/exports-number.js')]).stderr, /exports a number/);
  assert.match(cli(['check', fixture('errors')]).stderr, /is a directory/);
  const binary = cli(['check', process.execPath]);
  assert.equal(binary.code, 2);
  assert.match(binary.stderr, /is not a text file/);
  assert.ok(binary.stderr.length < 400, 'no raw bytes on the terminal');
});

test('swap --write in a read-only folder changes nothing: the model stays byte-identical', { skip: process.platform === 'win32' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'normscope-ro-'));
  const file = join(dir, 'seq-bn.js');
  copyFileSync(join(ROOT, 'test/fixtures/refactor/seq-bn.js'), file);
  const before = readFileSync(file);
  // The model file stays writable, its folder does not (root ignores modes, so run as nobody then).
  const asUser = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
  if (asUser.uid !== undefined) chownSync(file, asUser.uid, asUser.gid!);
  // nobody may not be able to read the checkout (a clone under a 0700 folder): swap needs only the CLI bundle.
  const bin = mkdtempSync(join(tmpdir(), 'normscope-cli-'));
  const cliCopy = join(bin, 'cli.js');
  copyFileSync(CLI, cliCopy);
  chmodSync(bin, 0o755);
  chmodSync(cliCopy, 0o755);
  chmodSync(dir, 0o555);
  try {
    const r = cli(['swap', `${file}:8`, '--to', 'groupNorm', '--write'], asUser, cliCopy);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /no file was changed/);
    assert.deepEqual(readFileSync(file), before);
    assert.deepEqual(readdirSync(dir), ['seq-bn.js'], 'no temp or norm-layers file left behind');
  } finally {
    chmodSync(dir, 0o755);
    rmSync(dir, { recursive: true, force: true });
    rmSync(bin, { recursive: true, force: true });
  }
});

test('writeAllOrNothing: a file that cannot be staged leaves the others untouched', () => {
  const dir = mkdtempSync(join(tmpdir(), 'normscope-write-'));
  try {
    writeFileSync(join(dir, 'a.js'), 'old a');
    mkdirSync(join(dir, 'b.js')); // a directory where a file must go
    assert.throws(
      () =>
        writeAllOrNothing([
          { path: join(dir, 'a.js'), content: 'new a' },
          { path: join(dir, 'b.js'), content: 'b' },
        ]),
      WriteError,
    );
    assert.equal(readFileSync(join(dir, 'a.js'), 'utf8'), 'old a');
    assert.deepEqual(readdirSync(dir).sort(), ['a.js', 'b.js']);
    writeAllOrNothing([
      { path: join(dir, 'a.js'), content: 'new a' },
      { path: join(dir, 'c.js'), content: 'c' },
    ]);
    assert.equal(readFileSync(join(dir, 'a.js'), 'utf8'), 'new a');
    assert.equal(readFileSync(join(dir, 'c.js'), 'utf8'), 'c');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
