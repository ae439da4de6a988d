// "Install the Python package" (src/runner/pipInstall.ts): the package folder must be a pyproject project, pip's
// failures are said with their fix (Debian's Python without pip, PEP 668's externally managed Python, no write
// access, no such interpreter), and pip's output reaches the log line by line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { hasSetuptools, installArgs, pipProblem, pythonPackageFolder, runPip, stagePackage } from '../../src/runner/pipInstall';

const REPO = [path.resolve(__dirname, '../../..'), path.resolve('.')].find((p) => fs.existsSync(path.join(p, 'python', 'normscope')))!;
const PYPROJECT = path.join(REPO, 'python', 'pyproject.toml');

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
  assert.match(pipProblem('ERROR: No matching distribution found for setuptools>=61', 'python3')!, /apt install python3-setuptools/);
  assert.equal(pipProblem("ERROR: Invalid requirement: '/x'", 'python3'), null, 'unknown: the log says it');
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

test(
  'the command installs the real package offline into a virtual environment, from a copy (nothing written beside the sources)',
  { skip: !fs.existsSync(PYPROJECT) && `${PYPROJECT} is not in this checkout yet` },
  async (t) => {
    const dir = fs.mkdtempSync(path.join(tmpdir(), 'normscope-venv-'));
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    execFileSync('/usr/bin/python3', ['-m', 'venv', '--system-site-packages', path.join(dir, 'venv')]);
    const python = path.join(dir, 'venv', 'bin', 'python');
    assert.equal(await hasSetuptools(python), true, "Debian's setuptools, seen through --system-site-packages");
    const found = pythonPackageFolder(REPO);
    assert.ok('folder' in found);
    const before = fs.readdirSync(found.folder).sort();
    const staged = stagePackage(found.folder);
    t.after(() => staged.dispose());
    const lines: string[] = [];
    const result = await runPip(python, [...installArgs(staged.folder, true), '--no-index'], (l) => lines.push(l));
    assert.equal(result.code, 0, result.output);
    assert.ok(
      lines.some((l) => /Successfully installed normscope/.test(l)),
      lines.join('\n'),
    );
    assert.deepEqual(fs.readdirSync(found.folder).sort(), before, 'the source folder is untouched');
    const version = execFileSync(python, ['-c', 'import normscope, sys; sys.stdout.write(normscope.__version__)'], { cwd: dir }).toString();
    assert.match(version, /^\d+\.\d+\.\d+/);
  },
);
