// What-if comparisons: the pure verdict helpers, and `normscope compare` end to end on a real worker.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { compareNorms, finalLoss, meanGradNormSeries, rankCandidates } from '../../src/runner/compare';
import { RunFailedError, type RunErrorCode, type RunOptions } from '../../src/protocol';
import { normAtLine } from '../../src/refactor';
import type { RunReport } from '../../src/protocol/run';
import type { CompareCandidate } from '../../src/protocol/webview';
import type { NormKind } from '../../src/protocol/vocabulary';
import { runInProcess, WORKER } from './engine-fixtures';

const run = promisify(execFile);
const CLI = path.join(path.dirname(WORKER), 'cli.js');
const SMALL_BATCH = path.resolve('test/fixtures/workspace/small-batch.js');

test('finalLoss averages the last quarter and is null when the run went non-finite', () => {
  assert.equal(finalLoss([4, 3, 2, 1, 1, 1, 3, 1]), 2);
  assert.equal(finalLoss([1]), 1);
  assert.equal(finalLoss([1, null, 2]), null);
  assert.equal(finalLoss([]), null);
});

test('meanGradNormSeries averages layers with gradients, step by step', () => {
  const report = {
    layers: [{ stats: { gradNorm: [1, 3] } }, { stats: { gradNorm: [3, null] } }, { stats: { gradNorm: [null, null] } }, { stats: {} }],
  } as unknown as RunReport;
  assert.deepEqual(meanGradNormSeries(report), [2, 3]);
});

test('rankCandidates puts finished runs first, fewer errors first, then lower loss', () => {
  const c = (norm: NormKind, finalLoss: number | null, errors = 0): CompareCandidate => ({
    norm,
    finalLoss,
    loss: [],
    gradNorm: [],
    findings: Array.from({ length: errors }, () => ({
      kind: 'non-finite',
      severity: 'error',
      layer: null,
      step: 1,
      message: '',
      source: null,
    })),
  });
  const ranked = rankCandidates([c('batchNorm', null), c('layerNorm', 0.5, 1), c('groupNorm', 0.9), c('rmsNorm', 0.2)]).map((x) => x.norm);
  assert.deepEqual(ranked, ['rmsNorm', 'groupNorm', 'layerNorm', 'batchNorm']);
});

/** A client whose every run fails with `code` (and a message that names no normalization, to rule out text matching). */
function failingClient(code: RunErrorCode) {
  const asked: RunOptions[] = [];
  const client = {
    run: async (options: RunOptions) => {
      asked.push(options);
      throw new RunFailedError({
        code,
        message: code === 'no-norm-at-line' ? 'm.js:3: nothing here' : 'm.js:3 has no normalization layer',
      });
    },
  };
  return { client, asked };
}

test('compareNorms stops at the first candidate on a no-norm-at-line error, by its code, not its text', async () => {
  const options = { file: '/m.js', steps: 5, backend: 'cpu', seed: 1, samplingInterval: 1, line: 3 } as const;
  const candidates: NormKind[] = ['batchNorm', 'layerNorm', 'groupNorm'];
  const stop = failingClient('no-norm-at-line');
  const stopped = await compareNorms(stop.client, { ...options, candidates });
  assert.equal(stop.asked.length, 1);
  assert.deepEqual(
    stopped.candidates.map((c) => [c.norm, c.error]),
    [['batchNorm', 'm.js:3: nothing here']],
  );
  // Any other failure belongs to that candidate: the others still run.
  const other = failingClient('shape');
  const all = await compareNorms(other.client, { ...options, candidates });
  assert.deepEqual(
    other.asked.map((o) => o.normSwap?.to),
    candidates,
  );
  assert.equal(all.candidates.length, 3);
});

test('a what-if run at a line without a norm layer fails with no-norm-at-line, naming file and line', async () => {
  const outcome = await runInProcess(SMALL_BATCH, { backend: 'cpu', steps: 1, normSwap: { line: 9, to: 'layerNorm' } });
  assert.equal(outcome.error?.code, 'no-norm-at-line');
  assert.match(outcome.error.message, /small-batch\.js:9 creates no normalization layer/);
});

test('normAtLine reads the baseline normalization from the source', () => {
  const src =
    "const tf = require('@tensorflow/tfjs');\nconst m = tf.sequential();\nm.add(tf.layers.batchNormalization({ inputShape: [4] }));\nm.add(tf.layers.dense({ units: 1 }));\n";
  assert.equal(normAtLine(src, 'm.js', 3), 'batchNorm');
  assert.equal(normAtLine(src, 'm.js', 4), undefined);
});

test('normscope compare: at batch size 2, GroupNorm beats BatchNorm in inference-mode loss', async () => {
  const { stdout } = await run(
    process.execPath,
    [CLI, 'compare', `${SMALL_BATCH}:7`, '--to', 'groupNorm,layerNorm', '--json', '--backend', 'cpu'],
    { timeout: 120_000 },
  );
  const result = JSON.parse(stdout) as { candidates: CompareCandidate[] };
  assert.deepEqual(result.candidates.map((c) => c.norm).sort(), ['batchNorm', 'groupNorm', 'layerNorm']);
  const bn = result.candidates.find((c) => c.norm === 'batchNorm')!;
  const gn = result.candidates.find((c) => c.norm === 'groupNorm')!;
  assert.equal(bn.original, true);
  assert.ok(
    gn.finalLoss !== null && bn.finalLoss !== null && gn.finalLoss < bn.finalLoss,
    `groupNorm ${gn.finalLoss} vs batchNorm ${bn.finalLoss}`,
  );
  assert.equal(gn.loss.length, bn.loss.length, 'candidates train the same number of steps');
});

test('normscope compare exits 2 with file:line when the line has no normalization', async () => {
  await assert.rejects(
    run(process.execPath, [CLI, 'compare', `${SMALL_BATCH}:9`, '--to', 'groupNorm']),
    (e: { code: number; stderr: string }) => e.code === 2 && /small-batch\.js:9 has no normalization call/.test(e.stderr),
  );
});
