// The PyTorch engine's fast statistics (python/normscope/measuring/meter.py: few torch calls, one read-back, scalar
// math in Python) equal the straightforward float64 computation of every statistic, layer by layer, on a network
// with the cases the fast path shortcuts around (test/unit/pytorch_meter_check.py) — with the fused C pass
// (native.py, compiled here into a fresh cache folder), with the compiled hooks (hooks.c) and without them, and with
// each of the fused pass's fallbacks to torch ops.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { resolvePython } from '../../src/runner/pythonInterpreter';
import { pythonEnginePath } from '../../src/runner/pythonClient';
import { WORKER } from './engine-fixtures';

const CHECK = path.join(pythonEnginePath(WORKER), '..', 'test', 'unit', 'pytorch_meter_check.py');

interface CheckResult {
  mismatches: unknown[];
  compared: number;
  fused: boolean;
  compiled: boolean;
  headers: boolean;
  compiler: boolean;
  nonFiniteMismatches: unknown[] | null;
}

function check(python: string, seed: number, env: Record<string, string>): Promise<CheckResult> {
  return new Promise((resolve, reject) => {
    const fullEnv = { ...process.env, PYTHONPATH: pythonEnginePath(WORKER), PYTHONDONTWRITEBYTECODE: '1', ...env };
    execFile(python, [CHECK, String(seed)], { env: fullEnv, timeout: 120_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${error.message}\n${stderr}`));
      else resolve(JSON.parse(stdout.trim().split('\n').pop()!));
    });
  });
}

async function assertExact(env: Record<string, string>, label: string): Promise<CheckResult[]> {
  const python = await resolvePython({});
  const results = [];
  for (const seed of [0, 1]) {
    const result = await check(python.path, seed, env);
    assert.deepEqual(result.mismatches, [], `${label}, seed ${seed}`);
    assert.ok(result.compared > 500, `${label}: only ${result.compared} statistics compared (3 steps)`);
    results.push(result);
  }
  return results;
}

test('every statistic of the fused C pass equals the direct computation (compiled on first use; 3 steps, 2 seeds)', async () => {
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'normscope-cache-'));
  try {
    // NORMSCOPE_STRICT_C: built with -Wall -Wextra -Werror, and a failed build fails the check instead of falling back.
    const [first] = await assertExact({ XDG_CACHE_HOME: cache, NORMSCOPE_STRICT_C: '1' }, 'fused');
    if (!first.compiler) return; // no C compiler on this machine: the fallback tests below cover what runs
    assert.equal(first.fused, true, 'a C compiler is on PATH, yet the fused pass did not load');
    assert.equal(first.compiled, first.headers, "the compiled hooks load exactly when Python's headers are there");
    assert.deepEqual(
      first.nonFiniteMismatches,
      [],
      'on tensors holding NaN, ±Inf or overflowing squares the fused pass must agree with torch ops',
    );
    const built = fs.readdirSync(path.join(cache, 'normscope'));
    assert.deepEqual(built.filter((f) => f.endsWith('.so')).length, 1, `one cached library, no leftovers: ${built.join(', ')}`);
    assert.equal(built.length, 1, `no temporary files left: ${built.join(', ')}`);
  } finally {
    fs.rmSync(cache, { recursive: true, force: true });
  }
});

test("NORMSCOPE_NO_HOOKS=1: the fused pass under meter.py's Python hooks, the same statistics", async () => {
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'normscope-cache-'));
  try {
    const [first] = await assertExact({ NORMSCOPE_NO_HOOKS: '1', XDG_CACHE_HOME: cache }, 'NORMSCOPE_NO_HOOKS');
    assert.equal(first.compiled, false);
    assert.equal(first.fused, first.compiler);
  } finally {
    fs.rmSync(cache, { recursive: true, force: true });
  }
});

test('NORMSCOPE_NO_NATIVE=1: torch ops only, the same statistics', async () => {
  const [first] = await assertExact({ NORMSCOPE_NO_NATIVE: '1' }, 'NORMSCOPE_NO_NATIVE');
  assert.equal(first.fused, false);
});

test('a compiler that fails: the engine falls back to torch ops, the same statistics', async () => {
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'normscope-cache-'));
  try {
    const [first] = await assertExact({ CC: 'false', XDG_CACHE_HOME: cache }, 'CC=false');
    assert.equal(first.fused, false);
    assert.equal(first.compiled, false);
    assert.deepEqual(fs.readdirSync(path.join(cache, 'normscope')), [], 'a failed build leaves nothing behind');
  } finally {
    fs.rmSync(cache, { recursive: true, force: true });
  }
});

test('the compiled library is rebuilt when any of its C files or its header changes (each one keys the cache)', async () => {
  const python = await resolvePython({});
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'normscope-key-'));
  try {
    const pkg = path.join(dir, 'pkg', 'normscope');
    fs.cpSync(path.join(pythonEnginePath(WORKER), 'normscope'), pkg, { recursive: true });
    const env = { ...process.env, PYTHONPATH: path.dirname(pkg), PYTHONDONTWRITEBYTECODE: '1', XDG_CACHE_HOME: path.join(dir, 'cache') };
    const load = () =>
      new Promise<string>((resolve, reject) =>
        execFile(
          python.path,
          ['-c', 'from normscope.measuring import native; print(native.hooks_module() is not None)'],
          { env },
          (e, out, err) => (e ? reject(new Error(`${e.message}\n${err}`)) : resolve(out.trim())),
        ),
      );
    if ((await load()) !== 'True') return; // no compiler or no Python headers here: nothing compiled to key
    const built = () => fs.readdirSync(path.join(dir, 'cache', 'normscope')).filter((f) => f.endsWith('.so'));
    assert.equal(built().length, 1);
    fs.appendFileSync(path.join(pkg, 'measuring', 'hooks_moments.c'), '\n/* changed */\n');
    assert.equal(await load(), 'True');
    assert.equal(built().length, 2, 'a change in one of its files must build a new library, not load the old one');
    fs.appendFileSync(path.join(pkg, 'measuring', 'measuring.h'), '\n/* changed */\n');
    assert.equal(await load(), 'True');
    assert.equal(built().length, 3, 'a change in the header must build a new library');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
