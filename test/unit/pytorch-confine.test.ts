// Least privilege for PyTorch model files under `check` (python/normscope/engine/landlock.py): writes only to the run's
// temp folder, no programs but the interpreter, no network; `--no-restrict` and `normscope run` run with the user's
// rights. Landlock must be there on a Linux kernel that has it (5.13+): the tests that need it say so when skipped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { homedir, release } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { pythonEnginePath } from '../../src/runner/pythonClient';
import { resolvePython } from '../../src/runner/pythonInterpreter';
import { runCheckCommand, WORKER } from './engine-fixtures';

const ESCAPES = join(dirname(WORKER), '..', 'test', 'fixtures', 'pytorch', 'lifetime', 'escapes.py');
const HOME_FILE = join(homedir(), 'normscope-written-by-model.txt');
const lineOf = (text: string) =>
  readFileSync(ESCAPES, 'utf8')
    .split('\n')
    .findIndex((l) => l.includes(text)) + 1;

/** The Landlock ABI the engine finds here (0: none), as `python -m normscope.engine.landlock` reports it. */
function landlockAbi(): number {
  for (const python of ['python3', '/usr/bin/python3']) {
    try {
      const out = execFileSync(python, ['-m', 'normscope.engine.landlock'], {
        env: { ...process.env, PYTHONPATH: pythonEnginePath(WORKER) },
        encoding: 'utf8',
      });
      return Number(out.trim());
    } catch {
      /* not this interpreter */
    }
  }
  throw new Error('no python3 to ask');
}

const kernel = release().split(/[.-]/).slice(0, 2).map(Number) as [number, number];
const kernelHasLandlock = process.platform === 'linux' && (kernel[0] > 5 || (kernel[0] === 5 && kernel[1] >= 13));
const ABI = process.platform === 'linux' ? landlockAbi() : 0;
const NEEDS_LANDLOCK = { skip: ABI === 0 ? `no Landlock on this system (${process.platform} ${release()})` : false };

test('Landlock is available to the engine on a Linux 5.13+ kernel (this CI machine), and reported as its ABI version', () => {
  if (!kernelHasLandlock) return;
  assert.ok(ABI >= 1, `Linux ${release()} should offer Landlock; the engine found ABI ${ABI} (Landlock disabled at boot?)`);
});

test(
  'a model file writing to $HOME under check is refused naming its line; the file does not exist afterwards',
  NEEDS_LANDLOCK,
  async () => {
    rmSync(HOME_FILE, { force: true });
    const r = await runCheckCommand([ESCAPES, '--model', 'writes_home', '--steps', '2']);
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      new RegExp(
        `escapes\\.py:${lineOf("open(HOME_FILE, 'w')")}: writes_home\\(\\) raised: the model is not allowed to write ${HOME_FILE}`,
      ),
    );
    assert.match(r.stderr, /writes are allowed only under .*normscope-run-.*--no-restrict/);
    assert.equal(existsSync(HOME_FILE), false, 'the model wrote to $HOME');
  },
);

test('--no-restrict runs the same model with your rights: the write happens', async () => {
  try {
    const r = await runCheckCommand([ESCAPES, '--model', 'writes_home', '--steps', '2', '--no-restrict']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(existsSync(HOME_FILE), true);
  } finally {
    rmSync(HOME_FILE, { force: true });
  }
});

test('under check a model may not start programs or open TCP connections; each refusal names its line', NEEDS_LANDLOCK, async () => {
  const exec = await runCheckCommand([ESCAPES, '--model', 'runs_program', '--steps', '2']);
  assert.equal(exec.code, 2);
  assert.match(exec.stderr, new RegExp(`escapes\\.py:${lineOf("subprocess.run(['id']")}: .*not allowed to start programs \\(id\\)`));
  const net = await runCheckCommand([ESCAPES, '--model', 'connects', '--steps', '2']);
  assert.equal(net.code, 2);
  if (ABI >= 4)
    assert.match(net.stderr, new RegExp(`escapes\\.py:${lineOf('create_connection')}: .*not allowed to open network connections`));
});

test('under check a model may use the temp folder and multiprocessing spawn (the interpreter itself)', async () => {
  for (const builder of ['writes_temp', 'spawns_python']) {
    const r = await runCheckCommand([ESCAPES, '--model', builder, '--steps', '2', '--json']);
    assert.equal(r.code, 0, `${builder}: ${r.stderr}`);
    const notes = (JSON.parse(r.stdout) as { backendNotes: string[] }).backendNotes.join('\n');
    if (ABI > 0) assert.doesNotMatch(notes, /not restricted/);
    else assert.match(notes, /permissions: not restricted: Landlock is not available/);
  }
});

test('DataLoader workers in a model file’s data() work under check (forked, shared memory)', async () => {
  const file = join(dirname(ESCAPES), 'workers_data.py');
  const r = await runCheckCommand([file, '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal((JSON.parse(r.stdout) as { steps: number }).steps, 8);
});

test('without Landlock a model runs with your rights and its notes say so once (test/python/test_confine.py)', async () => {
  const python = await resolvePython({});
  const tests = join(dirname(WORKER), '..', 'test', 'python');
  const env = { ...process.env, PYTHONPATH: [pythonEnginePath(WORKER), process.env.PYTHONPATH].filter(Boolean).join(delimiter) };
  const output = await new Promise<string>((resolve, reject) => {
    execFile(
      python.path,
      ['-m', 'unittest', 'discover', '-v', '-s', tests, '-p', 'test_confine.py'],
      { env, timeout: 120_000 },
      (error, stdout, stderr) => (error ? reject(new Error(stdout + stderr)) : resolve(stdout + stderr)),
    );
  });
  assert.match(output, /Ran 5 tests/);
  assert.match(output, /test_without_landlock_the_run_goes_unrestricted_and_says_so_once .* ok/);
});
