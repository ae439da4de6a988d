// The PyTorch engine's fast statistics (python/normscope_engine/measure.py: few torch calls, one read-back, scalar
// math in Python) equal the straightforward float64 computation of every statistic, layer by layer, on a network
// with the cases the fast path shortcuts around (test/unit/pytorch_meter_check.py).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { resolvePython } from '../../src/runner/pythonInterpreter';
import { pythonEnginePath } from '../../src/runner/pythonClient';
import { WORKER } from './engine-fixtures';

const CHECK = path.join(pythonEnginePath(WORKER), '..', 'test', 'unit', 'pytorch_meter_check.py');

function check(python: string, seed: number): Promise<{ mismatches: unknown[]; compared: number }> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, PYTHONPATH: pythonEnginePath(WORKER), PYTHONDONTWRITEBYTECODE: '1' };
    execFile(python, [CHECK, String(seed)], { env, timeout: 120_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${error.message}\n${stderr}`));
      else resolve(JSON.parse(stdout.trim().split('\n').pop()!));
    });
  });
}

test('every statistic of the fast meter equals the direct computation (3 steps, 2 seeds)', async () => {
  const python = await resolvePython({});
  for (const seed of [0, 1]) {
    const { mismatches, compared } = await check(python.path, seed);
    assert.deepEqual(mismatches, [], `seed ${seed}`);
    assert.ok(compared > 150, `only ${compared} statistics compared`);
  }
});
