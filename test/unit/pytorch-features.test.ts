// The PyTorch engine's torch-version branches, chosen by feature (python/normscope/measuring/features.py): the Python-side
// tests in test/python run the 1.13 path here and the 2.x path with the 2.x attribute monkeypatched in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { delimiter } from 'node:path';
import { pythonEnginePath } from '../../src/runner/pythonClient';
import { resolvePython } from '../../src/runner/pythonInterpreter';
import { WORKER } from './engine-fixtures';

const TESTS = [path.resolve(__dirname, '../../../test/python'), path.resolve('test/python')].find((p) => fs.existsSync(p))!;

test('feature detection: nn.RMSNorm, parametrizations.weight_norm and parametrized layers, on 1.13 and with the 2.x attributes; the batch size rules (test/python)', async () => {
  const python = await resolvePython({});
  const env = { ...process.env, PYTHONPATH: [pythonEnginePath(WORKER), process.env.PYTHONPATH].filter(Boolean).join(delimiter) };
  const { code, output } = await new Promise<{ code: number; output: string }>((resolve) => {
    execFile(
      python.path,
      // Named modules, not discovery: test/python also holds test_confine.py, which pytorch-confine.test.ts runs.
      ['-m', 'unittest', '-v', 'test_features', 'test_batch_size'],
      { env, cwd: TESTS, timeout: 120_000 },
      (error, stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, output: stdout + stderr }),
    );
  });
  assert.equal(code, 0, output);
  assert.match(output, /Ran 13 tests/);
  assert.match(output, /test_with_nn_rmsnorm_present_the_swap_uses_it .* ok/);
});
