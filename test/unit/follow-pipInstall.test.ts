// "Install the Python package" (src/runner/pipInstall.ts): the package folder must be a pyproject project, pip's
// failures are said with their fix (Debian's Python without pip, PEP 668's externally managed Python, no write
// access, no such interpreter), and pip's output reaches the log line by line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pipProblem, pythonPackageFolder, runPip } from '../../src/runner/pipInstall';

test('the package folder is <extension>/python with a pyproject.toml, else an error naming the missing file', (t) => {
  const ext = fs.mkdtempSync(path.join(tmpdir(), 'normscope-pip-'));
  t.after(() => fs.rmSync(ext, { recursive: true, force: true }));
  const missing = pythonPackageFolder(ext);
  assert.ok('error' in missing && missing.error.includes(path.join(ext, 'python', 'pyproject.toml')));
  fs.mkdirSync(path.join(ext, 'python'));
  fs.writeFileSync(path.join(ext, 'python', 'pyproject.toml'), '[project]\nname = "normscope"\n');
  assert.deepEqual(pythonPackageFolder(ext), { folder: path.join(ext, 'python') });
});

test("pip's failures come with their fix", () => {
  assert.match(pipProblem('/usr/bin/python3: No module named pip\n', '/usr/bin/python3')!, /apt install python3-pip.*python3 -m venv/s);
  assert.match(
    pipProblem('error: externally-managed-environment\n\n× This environment is externally managed', 'python3')!,
    /virtual environment.*--system-site-packages/s,
  );
  assert.match(pipProblem('ERROR: Could not install packages due to an OSError: [Errno 13] Permission denied', 'py')!, /--user/);
  assert.match(pipProblem('spawn /nope/python ENOENT\n', '/nope/python')!, /was not found.*normscope\.pythonPath/);
  assert.equal(pipProblem('ERROR: No matching distribution found for setuptools>=61', 'python3'), null, 'unknown: the log says it');
});

test('runPip runs `<python> -m pip <args>`, streams each line to the log and reports the exit code', async (t) => {
  const dir = fs.mkdtempSync(path.join(tmpdir(), 'normscope-pip-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const fake = path.join(dir, 'python');
  fs.writeFileSync(fake, '#!/bin/sh\necho "args: $*"\necho "warning" >&2\nexit 3\n', { mode: 0o755 });
  const lines: string[] = [];
  const result = await runPip(fake, ['install', '/ext/python'], (l) => lines.push(l));
  assert.equal(result.code, 3);
  assert.deepEqual([...lines].sort(), ['args: -m pip install /ext/python', 'warning']);
  const missing = await runPip(path.join(dir, 'no-python'), ['--version'], () => undefined);
  assert.notEqual(missing.code, 0);
  assert.match(pipProblem(missing.output, 'no-python')!, /was not found/);
});
