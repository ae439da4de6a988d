// `normscope compare … --lrs … --landscape` end to end through the real worker: the sweep table (JSON and text),
// the default 4 rates around the model's own, the landscape of each candidate, and usage errors.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import type { CompareResultJson } from '../../src/protocol';
import { EXAMPLES, WORKER } from './engine-fixtures';

const run = promisify(execFile);
const CLI = path.join(path.dirname(WORKER), 'cli.js');
const AT_BN = `${path.join(EXAMPLES, 'mlp-bn-ln.js')}:8`;

test("compare --lrs a,b --landscape: a cell per candidate × rate, a verdict, and each candidate's landscape", async () => {
  const { stdout } = await run(
    process.execPath,
    [
      CLI,
      'compare',
      AT_BN,
      '--to',
      'layerNorm',
      '--lrs',
      '1e-2,1e-3',
      '--landscape',
      'every=5',
      '--steps',
      '10',
      '--backend',
      'wasm',
      '--json',
    ],
    { timeout: 180_000 },
  );
  const result = JSON.parse(stdout) as CompareResultJson;
  const sweep = result.sweep!;
  assert.deepEqual(sweep.learningRates, [1e-3, 1e-2], 'sorted');
  assert.equal(sweep.cells.length, 4);
  assert.deepEqual(sweep.tolerance.map((t) => t.variant).sort(), ['batchNorm', 'layerNorm']);
  assert.ok(sweep.cells.every((c) => c.evalLoss !== null && Number.isFinite(c.evalLoss)));
  assert.ok(sweep.goodLoss !== null && sweep.message.length > 0);
  for (const c of result.candidates) {
    assert.deepEqual(
      c.landscape?.samples.map((s) => s.step),
      [0, 5],
      `${c.norm} landscape`,
    );
  }
});

test("compare --lrs auto: 4 rates over 30× around the model's own (Adam 1e-3), printed as a table", async () => {
  const { stdout } = await run(
    process.execPath,
    [CLI, 'compare', AT_BN, '--to', 'layerNorm', '--lrs', 'auto', '--steps', '5', '--backend', 'wasm'],
    { timeout: 180_000 },
  );
  assert.match(stdout, /Learning-rate sweep \(inference-mode loss; ✓ = good/);
  assert.match(stdout, /lr 0\.00018\s+lr 0\.00057\s+lr 0\.0018\s+lr 0\.0055/);
  assert.match(stdout, /^\s+batchNorm\s/m);
  assert.match(stdout, /tolerates the widest range|No variant reached a good loss/);
});

test('compare --lrs with a bad rate is a usage error naming it', async () => {
  const err = await run(process.execPath, [CLI, 'compare', AT_BN, '--to', 'layerNorm', '--lrs', '1e-3,fast'], { timeout: 30_000 }).catch(
    (e) => e as { code: number; stderr: string },
  );
  assert.equal((err as { code: number }).code, 2);
  assert.match((err as { stderr: string }).stderr, /--lrs: learning rate 'fast' is not a positive number/);
});
