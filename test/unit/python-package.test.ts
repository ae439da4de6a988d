// The Python package `normscope` (python/pyproject.toml, docs/python-package.md): pip installs it offline from a
// checkout, with its C sources, and the installed copy is the whole engine — without the checkout on sys.path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { resolvePython } from '../../src/runner/pythonInterpreter';
import { pythonEnginePath } from '../../src/runner/pythonClient';
import { EXAMPLES, WORKER } from './engine-fixtures';

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(file, args, { ...options, timeout: 300_000, maxBuffer: 16 << 20 }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const PYTHON_DIR = pythonEnginePath(WORKER);
const version = (JSON.parse(fs.readFileSync(path.join(PYTHON_DIR, '..', 'package.json'), 'utf8')) as { version: string }).version;

test('pip installs python/ offline (--no-build-isolation: the interpreter’s own setuptools) with its C sources', async (t) => {
  const python = (await resolvePython({})).path;
  const pip = await run(python, ['-m', 'pip', '--version']);
  const setuptools = await run(python, ['-c', 'import setuptools']);
  if (pip.code !== 0 || setuptools.code !== 0) {
    t.skip(`${python} has no pip or setuptools (CI installs python3-pip and python3-setuptools: .ci/run)`);
    return;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'normscope-pip-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  // A copy: setuptools builds in the source folder (build/, *.egg-info), which must not appear in the checkout.
  const source = path.join(dir, 'src');
  fs.cpSync(PYTHON_DIR, source, { recursive: true, filter: (f) => !/(__pycache__|\.egg-info|[\\/]build)$/.test(f) });
  const target = path.join(dir, 'site');
  // No index at all: nothing may be downloaded (PIP_NO_INDEX also turns off an index a pip.conf names).
  const env = { ...process.env, PIP_NO_INDEX: '1', PIP_DISABLE_PIP_VERSION_CHECK: '1', PYTHONPATH: '', PYTHONDONTWRITEBYTECODE: '1' };
  const installed = await run(
    python,
    ['-m', 'pip', 'install', '--no-build-isolation', '--no-deps', '--no-index', '--target', target, source],
    { env },
  );
  assert.equal(installed.code, 0, installed.stdout + installed.stderr);

  for (const file of [
    'normscope/__init__.py',
    'normscope/engine/__main__.py',
    'normscope/measuring/hooks.c',
    'normscope/measuring/measuring.h',
  ]) {
    assert.ok(fs.existsSync(path.join(target, file)), `the installed package lacks ${file}`);
  }
  const metadata = fs.readFileSync(path.join(target, `normscope-${version}.dist-info`, 'METADATA'), 'utf8');
  assert.match(metadata, new RegExp(`^Version: ${version.replace(/\./g, '\\.')}$`, 'm'), "the package's version is package.json's");

  // Run from a folder outside the checkout, with only the installed copy on the path.
  const fromInstalled = { cwd: dir, env: { ...env, PYTHONPATH: target, XDG_CACHE_HOME: path.join(dir, 'cache') } };
  const where = await run(
    python,
    ['-c', 'import normscope, normscope.engine.run as r; print(normscope.__version__); print(r.__file__)'],
    fromInstalled,
  );
  assert.equal(where.code, 0, where.stderr);
  const [printedVersion, engineFile] = where.stdout.trim().split('\n');
  assert.equal(printedVersion, version);
  assert.ok(engineFile.startsWith(target + path.sep), `the engine came from ${engineFile}, not the installed copy`);

  const linted = await run(python, ['-m', 'normscope.analysis.lint', path.join(EXAMPLES, 'small_batch_bn.py')], fromInstalled);
  assert.equal(linted.code, 0, linted.stderr);
  const kinds = (JSON.parse(linted.stdout) as { findings: { kind: string }[] }).findings.map((f) => f.kind);
  assert.ok(kinds.includes('bn-small-batch'), `the installed lint found ${kinds.join(', ')}`);

  // The C sources compile from the installed folder wherever this machine has a compiler (NORMSCOPE_NO_NATIVE aside).
  const compiled = await run(python, ['-c', 'from normscope.measuring import native; print(native.library() is not None)'], fromInstalled);
  assert.equal(compiled.code, 0, compiled.stderr);
  const cc = await run('sh', ['-c', 'command -v "${CC:-cc}" || command -v gcc']);
  if (cc.code === 0) assert.equal(compiled.stdout.trim(), 'True', 'the installed C sources did not build');
});
