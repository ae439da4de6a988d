// The Python run-log writer's own tests (test/python/test_runlog.py: value forms, ends, disk errors, the numpy and loop
// events, protection windows), run here with the engine on PYTHONPATH; and the engine's version is the package's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pythonEnginePath } from '../../src/runner/pythonClient';
import { WORKER } from './engine-fixtures';
import { python, PYTHON_TESTS } from './runlog-fixtures';

test('test/python/test_runlog.py passes', async () => {
  const py = await python();
  const { code, output } = await new Promise<{ code: number; output: string }>((resolve) => {
    execFile(
      py.path,
      ['-m', 'unittest', 'discover', '-v', '-s', PYTHON_TESTS, '-p', 'test_runlog.py'],
      { env: py.env, timeout: 180_000 },
      (error, stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, output: stdout + stderr }),
    );
  });
  assert.equal(code, 0, output);
  assert.match(output, /Ran 9 tests/);
  assert.match(output, /test_a_disk_error_stops_the_log_with_one_warning_never_the_training .* ok/);
});

test("the engine's __version__ (recorded in every run log) is package.json's version", () => {
  const init = fs.readFileSync(path.join(pythonEnginePath(WORKER), 'normscope', 'version.py'), 'utf8');
  const pkg = JSON.parse(fs.readFileSync(path.join(pythonEnginePath(WORKER), '..', 'package.json'), 'utf8')) as { version: string };
  assert.equal(/__version__ = '([^']+)'/.exec(init)?.[1], pkg.version);
});
