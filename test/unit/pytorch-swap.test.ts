// Swaps on PyTorch lines (python/normscope/refactor/swap.py via src/runner/pythonSwap.ts): argument translation, and
// the swapped file still trains through the engine with the finding gone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { RunReportJson } from '../../src/protocol';
import { compareNorms } from '../../src/runner/compare';
import { PythonClient, pythonEnginePath } from '../../src/runner/pythonClient';
import { pythonNormAtLine } from '../../src/runner/pythonLint';
import { swapPythonNorm } from '../../src/runner/pythonSwap';
import { runCheckCommand, WORKER } from './engine-fixtures';

const PY_FIXTURES = [path.resolve(__dirname, '../../../test/fixtures/pytorch'), path.resolve('test/fixtures/pytorch')].find((p) =>
  fs.existsSync(p),
)!;
const ENGINE = pythonEnginePath(WORKER);

function copyFixture(name: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'normscope-swap-'));
  const file = path.join(dir, name);
  fs.copyFileSync(path.join(PY_FIXTURES, name), file);
  return file;
}

async function check(file: string): Promise<RunReportJson> {
  const { code, stdout, stderr } = await runCheckCommand([file, '--json']);
  assert.equal(code, 0, stderr);
  return JSON.parse(stdout) as RunReportJson;
}

test('BatchNorm1d at batch 2 → LayerNorm: same line, still trains, the drift finding is gone', async () => {
  const file = copyFixture('bn_batch2.py');
  const { newText, description } = await swapPythonNorm(file, 13, 'layerNorm', ENGINE);
  assert.match(description, /nn\.BatchNorm1d\(hidden\) → nn\.LayerNorm\(hidden\)/);
  assert.equal(newText.split('\n')[12].trim(), 'self.bn = nn.LayerNorm(hidden)');
  fs.writeFileSync(file, newText);
  const report = await check(file);
  assert.equal(report.layers.find((l) => l.name === 'bn')?.className, 'LayerNorm');
  assert.equal(report.layers.find((l) => l.name === 'bn')?.source?.line, 13);
  assert.deepEqual(
    report.flags.filter((f) => f.kind === 'bn-train-inference-drift'),
    [],
  );
});

test('BatchNorm2d → GroupNorm on a symbolic channel count, and RMSNorm emitted as a module when torch lacks it', async () => {
  const resnet = copyFixture('resnet_block.py');
  const { newText } = await swapPythonNorm(resnet, 14, 'groupNorm', ENGINE);
  assert.match(newText, /^import math\n/);
  assert.match(newText, /self\.bn1 = nn\.GroupNorm\(math\.gcd\(32, planes\), planes\)/);
  fs.writeFileSync(resnet, newText);
  const trained = await check(resnet);
  assert.equal(trained.layers.filter((l) => l.className === 'GroupNorm').length, 2, 'bn1 of both blocks');
  const mlp = copyFixture('bn_batch2.py');
  const rms = await swapPythonNorm(mlp, 13, 'rmsNorm', ENGINE);
  fs.writeFileSync(mlp, rms.newText);
  const report = await check(mlp);
  assert.match(report.layers.find((l) => l.name === 'bn')!.className, /RMSNorm/);
  assert.equal(report.layers.find((l) => l.name === 'bn')!.stats.gammaMean!.length, report.steps, 'γ of the RMSNorm measured');
});

test('a line without a norm call, or a swap that does not fit, names the file and line', async () => {
  await assert.rejects(
    swapPythonNorm(path.join(PY_FIXTURES, 'bn_batch2.py'), 12, 'layerNorm', ENGINE),
    /bn_batch2\.py:12: line 12 has no torch\.nn normalization call/,
  );
  await assert.rejects(
    swapPythonNorm(path.join(PY_FIXTURES, 'bn_batch2.py'), 13, 'groupNorm', ENGINE),
    /bn_batch2\.py:13: BatchNorm1d normalizes vectors/,
  );
});

test('compare on a Python BatchNorm line: each candidate trains from the same file, lines unchanged, drift only for BatchNorm', async () => {
  const client = new PythonClient({ enginePath: ENGINE });
  try {
    const file = path.join(PY_FIXTURES, 'bn_batch2.py');
    assert.equal(await pythonNormAtLine(file, 13, ENGINE), 'batchNorm');
    const result = await compareNorms(client, {
      file,
      line: 13,
      candidates: ['batchNorm', 'layerNorm', 'rmsNorm'],
      steps: 20,
      backend: 'auto',
      seed: 42,
      samplingInterval: 1,
    });
    const byNorm = Object.fromEntries(result.candidates.map((c) => [c.norm, c]));
    assert.deepEqual(Object.keys(byNorm).sort(), ['batchNorm', 'layerNorm', 'rmsNorm']);
    for (const c of result.candidates) assert.equal(c.error, undefined, `${c.norm}: ${c.error}`);
    assert.ok(byNorm.batchNorm.findings.some((f) => f.kind === 'bn-train-inference-drift'));
    assert.ok(!byNorm.layerNorm.findings.some((f) => f.kind === 'bn-train-inference-drift'));
  } finally {
    client.dispose();
  }
});

test('BatchNorm → weight norm: the Linear before it is wrapped, the norm becomes nn.Identity(), and the file still trains', async () => {
  const file = copyFixture('bn_batch2.py');
  const { newText, description } = await swapPythonNorm(file, 13, 'weightNorm', ENGINE);
  const lines = newText.split('\n');
  // torch 1.13 has no nn.utils.parametrizations.weight_norm (2.1+): the engine detects that and says so in the code.
  assert.match(
    lines[11],
    /self\.proj = nn\.utils\.weight_norm\(nn\.Linear\(features, hidden\)\)  # .*no nn\.utils\.parametrizations\.weight_norm/,
  );
  assert.match(lines[12], /self\.bn = nn\.Identity\(\)  # weight norm on the Linear of line 12 replaces this BatchNorm1d/);
  assert.match(description, /line 13: nn\.BatchNorm1d\(hidden\) → nn\.Identity\(\); line 12: Linear wrapped in nn\.utils\.weight_norm/);
  fs.writeFileSync(file, newText);
  const report = await check(file);
  const proj = report.layers.find((l) => l.name === 'proj')!;
  assert.equal(proj.className, 'Linear');
  assert.equal(proj.source?.line, 12);
  assert.ok(
    proj.stats.weightNorm!.every((w) => typeof w === 'number' && w > 0),
    'g and v measured as the layer weights',
  );
  assert.equal(report.layers.find((l) => l.name === 'bn')?.className, 'Identity');
  assert.deepEqual(
    report.flags.filter((f) => f.kind === 'bn-train-inference-drift'),
    [],
  );
});

test('weight norm on a conv inside nn.Sequential drops bias=False (the norm held the shift); on a Linear line it wraps that line', async () => {
  const resnet = copyFixture('resnet_block.py');
  const { newText } = await swapPythonNorm(resnet, 21, 'weightNorm', ENGINE);
  const lines = newText.split('\n');
  assert.match(lines[19], /^ {16}nn\.utils\.weight_norm\(nn\.Conv2d\(in_planes, planes, kernel_size=1, stride=stride\)\),  # /);
  assert.match(lines[20], /^ {16}nn\.Identity\(\),  # weight norm on the Conv2d of line 20/);
  fs.writeFileSync(resnet, newText);
  const report = await check(resnet);
  assert.equal(report.layers.filter((l) => l.className === 'Identity').length, 1, 'the shortcut BatchNorm of layer2');
  const mlp = copyFixture('bn_batch2.py');
  const out = await swapPythonNorm(mlp, 15, 'weightNorm', ENGINE);
  assert.match(out.newText.split('\n')[14], /self\.out = nn\.utils\.weight_norm\(nn\.Linear\(hidden, 1\)\)/);
  assert.match(out.newText.split('\n')[12], /nn\.BatchNorm1d\(hidden\)$/, 'no norm on that line: nothing else changes');
  await assert.rejects(swapPythonNorm(mlp, 14, 'weightNorm', ENGINE), /bn_batch2\.py:14: no Linear\/Conv layer/);
  fs.writeFileSync(mlp, out.newText);
  await assert.rejects(swapPythonNorm(mlp, 15, 'weightNorm', ENGINE), /already wrapped in weight_norm/);
});
