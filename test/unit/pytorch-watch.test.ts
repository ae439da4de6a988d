// normscope.watch in a user's own PyTorch loop (test/python/test_watch.py, run here with the engine on PYTHONPATH):
// bit-identical losses and weights with and without the watcher, gradient accumulation, LR schedulers built before
// and after, no_grad evaluation not measured, two models, torch.compile's wrapper, GradScaler's skipped steps, and the
// lines of a model built before watch() was called.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { python, PYTHON_TESTS } from './runlog-fixtures';

/** Runs test/python/`module`.py under unittest; resolves with its exit code and output. */
export async function pythonUnittest(module: string, timeout = 300_000): Promise<{ code: number; output: string }> {
  const py = await python();
  return new Promise((resolve) => {
    execFile(
      py.path,
      ['-m', 'unittest', 'discover', '-v', '-s', PYTHON_TESTS, '-p', `${module}.py`],
      { env: py.env, timeout, maxBuffer: 16 << 20 },
      (error, stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, output: stdout + stderr }),
    );
  });
}

test('test/python/test_watch.py passes', async () => {
  const { code, output } = await pythonUnittest('test_watch');
  assert.equal(code, 0, output);
  assert.match(output, /Ran 8 tests/);
  assert.match(output, /test_bit_identical_losses_and_weights .* ok/);
});

test('test/python/test_watch_device.py passes: the device path reads the host once a step, not once a layer', async () => {
  const { code, output } = await pythonUnittest('test_watch_device');
  assert.equal(code, 0, output);
  assert.match(output, /Ran 2 tests/);
});
