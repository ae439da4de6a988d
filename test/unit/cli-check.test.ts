// `normscope check` (src/cli/check.ts) end to end through the forked worker: JSON contract,
// --fail-on exit code, errors on stderr with exit 2, usage errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { EXAMPLES, fixture, runCheckCommand } from './engine-fixtures';

const check = runCheckCommand;

test('--json prints one RunReport with the documented fields', async () => {
  const { code, stdout } = await check([fixture('create-model-factory.js'), '--steps', '4', '--backend', 'cpu', '--json', '--seed', '3']);
  assert.equal(code, 0);
  const report = JSON.parse(stdout);
  for (const key of ['file', 'backend', 'steps', 'batchSize', 'syntheticData', 'loss', 'layers', 'flags', 'timing'])
    assert.ok(key in report, key);
  assert.equal(report.backend, 'cpu');
  assert.equal(report.steps, 4);
  assert.equal(report.loss.length, 4);
  const layer = report.layers[1];
  assert.deepEqual(Object.keys(layer).sort(), ['className', 'name', 'sampledSteps', 'source', 'stats']);
  assert.equal(layer.source.line, 8);
  for (const stat of [
    'mean',
    'variance',
    'gain',
    'gradNorm',
    'activationGradNorm',
    'deadFraction',
    'zeroFraction',
    'nonFinite',
    'weightNorm',
    'updateRatio',
  ]) {
    assert.equal(layer.stats[stat].length, 4, stat);
  }
  assert.ok(typeof report.timing.instrumentedStepMs === 'number' && typeof report.timing.plainStepMs === 'number');
});

test('--fail-on dead exits 1 on the dead-ReLU example, 0 without it', async () => {
  const file = path.join(EXAMPLES, 'dead-relu.js');
  const failing = await check([file, '--steps', '3', '--backend', 'cpu', '--json', '--fail-on', 'dead,non-finite']);
  assert.equal(failing.code, 1);
  assert.ok(JSON.parse(failing.stdout).flags.some((f: { kind: string }) => f.kind === 'dead'));
  const passing = await check([file, '--steps', '3', '--backend', 'cpu', '--json', '--fail-on', 'non-finite']);
  assert.equal(passing.code, 0);
});

test('a model error exits 2 with file:line on stderr and nothing on stdout', async () => {
  const { code, stdout, stderr } = await check([fixture('errors/factory-throws.js'), '--backend', 'cpu', '--json']);
  assert.equal(code, 2);
  assert.equal(stdout, '');
  assert.match(stderr, /factory-throws\.js:5:\d+: createModel\(\) threw: config file missing/);
});

test('usage errors exit 2 without starting a run', async () => {
  for (const args of [
    [],
    ['a.js', 'b.js'],
    ['a.js', '--steps', '0'],
    ['a.js', '--backend', 'gpu'],
    ['a.js', '--fail-on', 'nonsense'],
    ['a.js', '--bogus'],
  ]) {
    const { code, stderr } = await check(args);
    assert.equal(code, 2, args.join(' '));
    assert.match(stderr, /Usage: normscope check/);
  }
});

test('the readable table names every layer with its line', async () => {
  const { code, stdout } = await check([fixture('module-exports-model.js'), '--steps', '2', '--backend', 'cpu']);
  assert.equal(code, 0);
  assert.match(stdout, /dense_Dense1\s+Dense\s+5/);
  assert.match(stdout, /synthetic data/);
});
