// normscope.watch in a user's own PyTorch loop (test/python/test_watch.py, run here with the engine on PYTHONPATH):
// bit-identical losses and weights with and without the watcher, gradient accumulation, LR schedulers built before
// and after, no_grad evaluation not measured, two models, torch.compile's wrapper, GradScaler's skipped steps, and the
// lines of a model built before watch() was called.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { reportCommand } from '../../src/cli/report';
import type { RunReportJson } from '../../src/protocol';
import { capturingIO } from './capture';
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
  assert.match(output, /Ran 10 tests/);
  assert.match(output, /test_bit_identical_losses_and_weights .* ok/);
});

test('test/python/test_watch_device.py passes: the device path reads the host once a step, not once a layer', async () => {
  const { code, output } = await pythonUnittest('test_watch_device');
  assert.equal(code, 0, output);
  assert.match(output, /Ran 2 tests/);
});

test('examples/pytorch/train_watch.py: 3,000 steps with one watch line; report names the ReLU the LR jump killed', async () => {
  const py = await python();
  const runs = mkdtempSync(path.join(tmpdir(), 'normscope-example-'));
  try {
    const example = path.join(PYTHON_TESTS, '..', '..', 'examples', 'pytorch', 'train_watch.py');
    await new Promise<void>((resolve, reject) =>
      execFile(py.path, [example], { env: { ...py.env, NORMSCOPE_DIR: runs }, timeout: 300_000 }, (e, _out, err) =>
        e ? reject(new Error(`${e.message}\n${err}`)) : resolve(),
      ),
    );
    const { io, printed } = capturingIO();
    const written = fs.readdirSync(runs);
    assert.equal(written.length, 1, 'one run folder under $NORMSCOPE_DIR');
    assert.match(written[0], /^\d{8}-\d{6}-train_watch$/);
    assert.equal(await reportCommand([path.join(runs, written[0]), '--json'], io), 0, printed.stderr);
    const json = JSON.parse(printed.stdout) as RunReportJson;
    assert.equal(json.steps, 3000);
    const dead = json.flags.filter((f) => f.kind === 'dead');
    assert.deepEqual(
      dead.map((f) => f.layer),
      ['act2'],
    );
    assert.ok(dead[0].step! >= 2000 && dead[0].step! <= 2100, `dead from step ${dead[0].step}, the jump is at 2000`);
    const lines = fs.readFileSync(example, 'utf8').split('\n');
    const line = lines.findIndex((l) => l.includes('self.fc2, self.act2 = nn.Linear(width, width), nn.ReLU()'));
    assert.deepEqual([dead[0].source?.line, dead[0].source?.column], [line + 1, lines[line].indexOf('nn.ReLU()') + 1], 'in the tuple');
  } finally {
    fs.rmSync(runs, { recursive: true, force: true });
  }
});
