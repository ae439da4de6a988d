// The statistics' layout lives in three languages: src/protocol/run.ts (STAT_NAMES), stats_math.py (STAT_NAMES,
// FIELDS, REDUCTIONS) and measuring.h (the X-macros the C enums and exported name lists come from). These hold them to
// one order: stats_math.py's names are the protocol's, and native.py refuses a library whose names differ.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { STAT_NAMES } from '../../src/protocol';
import { resolvePython } from '../../src/runner/pythonInterpreter';
import { pythonEnginePath } from '../../src/runner/pythonClient';
import { WORKER } from './engine-fixtures';

function python(code: string, env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return resolvePython({}).then(
    ({ path: file }) =>
      new Promise((resolve) => {
        execFile(file, ['-c', code], { env, timeout: 300_000 }, (error, stdout, stderr) =>
          resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        );
      }),
  );
}

test("stats_math.py's STAT_NAMES are src/protocol's, in the same order", async () => {
  const env = { ...process.env, PYTHONPATH: pythonEnginePath(WORKER), PYTHONDONTWRITEBYTECODE: '1' };
  const out = await python('import json\nfrom normscope.measuring.stats_math import STAT_NAMES\nprint(json.dumps(STAT_NAMES))', env);
  assert.equal(out.code, 0, out.stderr);
  assert.deepEqual(JSON.parse(out.stdout), [...STAT_NAMES]);
});

test("the C library's layout is checked at load: measuring.h naming two statistics in another order stops the run", async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'normscope-layout-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const pkg = path.join(dir, 'normscope');
  fs.cpSync(path.join(pythonEnginePath(WORKER), 'normscope'), pkg, { recursive: true });
  const env = { ...process.env, PYTHONPATH: dir, PYTHONDONTWRITEBYTECODE: '1', XDG_CACHE_HOME: path.join(dir, 'cache') };
  const load = 'from normscope.measuring import native\nprint(native.library() is not None)';
  const intact = await python(load, env);
  assert.equal(intact.code, 0, intact.stderr);
  if (intact.stdout.trim() !== 'True') {
    t.skip('no C compiler here: no library to check');
    return;
  }
  const header = path.join(pkg, 'measuring', 'measuring.h');
  const text = fs.readFileSync(header, 'utf8');
  const swapped = text.replace('X(MIN, "min") X(MAX, "max")', 'X(MAX, "max") X(MIN, "min")');
  assert.notEqual(swapped, text, 'measuring.h lists min before max');
  fs.writeFileSync(header, swapped);
  const broken = await python(load, env);
  assert.notEqual(broken.code, 0, 'a library with another statistics order was loaded');
  assert.match(broken.stderr, /measuring\.h lists ns_stat_names as \[.*'max', 'min'.*\], stats_math\.py as/);
});
