// Compare on a Python line that builds no norm layer of the model: the engine fails with `no-norm-at-line` as the tfjs
// worker does, so `normscope compare` stops after one run with one message; and the host checks the codes the
// Python engine sends (an unknown one is a NormScope bug, 'internal').
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { checkedRunError, RunFailedError, type RunError } from '../../src/protocol';
import type { CompareResultJson } from '../../src/protocol/json';
import { PythonClient, pythonEnginePath } from '../../src/runner/pythonClient';
import { WORKER } from './engine-fixtures';

const run = promisify(execFile);
const CLI = path.join(path.dirname(WORKER), 'cli.js');
const PY_FIXTURES = [path.resolve(__dirname, '../../../test/fixtures/pytorch'), path.resolve('test/fixtures/pytorch')].find((p) =>
  fs.existsSync(p),
)!;
const UNUSED = path.join(PY_FIXTURES, 'unused_norm.py');
const PYTHON = '/usr/bin/python3';

/** The CLI's exit code and output; NORMSCOPE_DEBUG makes the client log one `PyTorch … via` line per run it starts. */
async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string; runs: number }> {
  const out = await run(process.execPath, [CLI, ...args], { env: { ...process.env, NORMSCOPE_DEBUG: '1' }, timeout: 120_000 }).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
  return { ...out, runs: out.stderr.split('\n').filter((l) => /^\[info\] PyTorch \S+ via /.test(l)).length };
}

async function failure(client: PythonClient, file: string, normSwap: { line: number; to: 'layerNorm' | 'groupNorm' }): Promise<RunError> {
  const error = await client
    .run({ file, steps: 2, backend: 'auto', seed: 1, samplingInterval: 1, normSwap }, () => {})
    .then(
      () => assert.fail('the run should fail'),
      (e: unknown) => (e instanceof RunFailedError ? e.runError : assert.fail(String(e))),
    );
  return error;
}

test('normscope compare on a Python norm line the model does not use: exit 2 after one run, one message with file:line', async () => {
  const text = await cli(['compare', `${UNUSED}:13`, '--to', 'layerNorm,groupNorm']);
  assert.equal(text.code, 2, text.stderr);
  assert.match(text.stderr, /normscope compare: unused_norm\.py:13 creates no normalization layer of this model/);
  assert.equal(text.runs, 1, 'the other candidates are not trained');
  assert.equal(text.stdout, '', 'no table of one failure');

  const json = await cli(['compare', `${UNUSED}:13`, '--to', 'layerNorm,groupNorm', '--json']);
  assert.equal(json.code, 2);
  assert.equal(json.runs, 1);
  const result = JSON.parse(json.stdout) as CompareResultJson;
  assert.deepEqual(
    result.candidates.map((c) => c.norm),
    ['batchNorm'],
  );
  assert.match(result.candidates[0].error ?? '', /unused_norm\.py:13 creates no normalization layer/);
});

test('the engine: no-norm-at-line for a line without a norm call or outside the model; bad-options for a misfit candidate', async () => {
  const client = new PythonClient({ enginePath: pythonEnginePath(WORKER), explicit: PYTHON });
  try {
    const conv = await failure(client, UNUSED, { line: 12, to: 'layerNorm' });
    assert.deepEqual([conv.code, conv.file, conv.line], ['no-norm-at-line', UNUSED, 12]);
    assert.match(conv.message, /^unused_norm\.py:12 creates no normalization layer/);
    const unused = await failure(client, UNUSED, { line: 13, to: 'layerNorm' });
    assert.deepEqual([unused.code, unused.line], ['no-norm-at-line', 13]);
    // A norm the model does have, but a candidate that does not fit it: only that candidate fails.
    const misfit = await failure(client, path.join(PY_FIXTURES, 'bn_batch2.py'), { line: 13, to: 'groupNorm' });
    assert.equal(misfit.code, 'bad-options');
    assert.match(misfit.message, /bn_batch2\.py:13: BatchNorm1d normalizes vectors/);
  } finally {
    client.dispose();
  }
});

test("an engine error with an unknown code becomes 'internal' with its message kept; known codes pass", async () => {
  // A stand-in engine package that answers every run with an error of a code the host does not know.
  const enginePath = fs.mkdtempSync(path.join(os.tmpdir(), 'normscope-fake-engine-'));
  fs.mkdirSync(path.join(enginePath, 'normscope', 'engine'), { recursive: true });
  const error = { code: 'no-such-code', message: 'm.py:3: the engine said so', file: '/m.py', line: 3 };
  fs.writeFileSync(
    path.join(enginePath, 'normscope', 'engine', '__main__.py'),
    // The protocol's socket is the fd the host names (python/normscope/engine/lifetime.py).
    `import json, os\nos.write(int(os.environ['NORMSCOPE_CONTROL_FD']), (json.dumps({"type": "error", "runId": "x", "error": ${JSON.stringify(error)}}) + '\\n').encode())\n`,
  );
  const logged: string[] = [];
  const client = new PythonClient({ enginePath, explicit: PYTHON, log: (_level, message) => logged.push(message) });
  try {
    const got = await failure(client, UNUSED, { line: 13, to: 'layerNorm' });
    assert.deepEqual(got, { code: 'internal', message: 'm.py:3: the engine said so', file: '/m.py', line: 3 });
    assert.ok(
      logged.some((m) => m.includes('"no-such-code"')),
      'the unknown code is logged',
    );
  } finally {
    client.dispose();
    fs.rmSync(enginePath, { recursive: true, force: true });
  }
  assert.deepEqual(checkedRunError({ code: 'no-norm-at-line', message: 'm', line: 2 }), { code: 'no-norm-at-line', message: 'm', line: 2 });
  assert.equal(checkedRunError({ code: 42, message: 'm' }).code, 'internal');
  assert.equal(checkedRunError('garbage').code, 'internal');
  assert.match(checkedRunError(null).message, /malformed error/);
});
