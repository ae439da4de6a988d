// Limits of a PyTorch run: a model that leaks memory is stopped at the memory limit with code 'oom' and a message
// naming the setting (editor) or flag (CLI); the host and the next run are unaffected.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RunFailedError } from '../../src/protocol';
import { PythonClient, pythonEnginePath } from '../../src/runner/pythonClient';
import { residentMB } from '../../src/runner/memoryWatch';
import { runCheckCommand, WORKER } from './engine-fixtures';

const PY_FIXTURES = [path.resolve(__dirname, '../../../test/fixtures/pytorch'), path.resolve('test/fixtures/pytorch')].find((p) =>
  fs.existsSync(p),
)!;
const HOG = path.join(PY_FIXTURES, 'errors', 'memory_hog.py');

test('a leaking model is stopped at normscope.maxMemoryMB with code oom, and the client runs the next model', async () => {
  const client = new PythonClient({ enginePath: pythonEnginePath(WORKER), maxMemoryMB: 600 });
  try {
    const run = client.run({ file: HOG, steps: 200, backend: 'auto', seed: 1, samplingInterval: 1 }, () => undefined);
    await assert.rejects(run, (e: unknown) => {
      assert.ok(e instanceof RunFailedError);
      assert.equal(e.runError.code, 'oom');
      assert.equal(e.runError.file, HOG);
      assert.match(e.runError.message, /used \d+ MB of memory, over the limit of 600 MB.*normscope\.maxMemoryMB \(now 600 MB\)/);
      return true;
    });
    const report = await client.run(
      { file: path.join(PY_FIXTURES, 'bn_batch2.py'), steps: 20, backend: 'auto', seed: 1, samplingInterval: 1 },
      () => undefined,
    );
    assert.equal(report.steps, 20);
  } finally {
    client.dispose();
  }
});

test('the CLI names --max-memory and exits 2', async () => {
  const { code, stderr } = await runCheckCommand([HOG, '--max-memory', '600']);
  assert.equal(code, 2);
  assert.match(stderr, /over the limit of 600 MB.*Raise the limit with --max-memory \(now 600 MB\)/);
});

test('resident memory is read from /proc (this process), and a process that is gone reads as unknown', () => {
  const mb = residentMB(process.pid);
  assert.ok(mb !== undefined && mb > 10 && mb < process.memoryUsage().rss / 2 ** 20 + 50, `rss ${mb}`);
  assert.equal(residentMB(2 ** 22 + 1), undefined);
});
