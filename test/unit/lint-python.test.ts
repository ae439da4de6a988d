// The Python step of `npm run lint` (scripts/lint-python.mjs: Ruff with python/pyproject.toml's settings) fails on
// an unused import and on code not formatted as Ruff formats it, and passes clean code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = [path.resolve(__dirname, '../../..'), path.resolve('.')].find((p) =>
  fs.existsSync(path.join(p, 'scripts', 'lint-python.mjs')),
)!;
const SCRIPT = path.join(ROOT, 'scripts', 'lint-python.mjs');

function lint(folder: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [SCRIPT, folder], { timeout: 120_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, output: stdout + stderr }),
    );
  });
}

function folderWith(t: { after: (fn: () => void) => void }, files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'normscope-ruff-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  return dir;
}

const CLEAN = 'import os\n\n\ndef here():\n    return os.getcwd()\n';

test('clean, formatted Python passes', async (t) => {
  const { code, output } = await lint(folderWith(t, { 'clean.py': CLEAN }));
  assert.equal(code, 0, output);
  assert.match(output, /1 files, 0 problems/);
});

test('an unused import fails the lint (F401), naming the file and line', async (t) => {
  const { code, output } = await lint(folderWith(t, { 'clean.py': CLEAN, 'unused.py': 'import json\nimport os\n\nprint(os.sep)\n' }));
  assert.equal(code, 1, output);
  assert.match(output, /unused\.py:1:8: F401 `json` imported but unused/);
  assert.doesNotMatch(output, /clean\.py/);
});

test('code not formatted as Ruff formats it fails the lint', async (t) => {
  const { code, output } = await lint(folderWith(t, { 'spaced.py': 'x = [1,2,  3]\n' }));
  assert.equal(code, 1, output);
  assert.match(output, /spaced\.py: not formatted as Ruff formats it/);
});
