// `normscope check --model/--args` through the forked worker: a function with parameters checked with
// given arguments, with the arguments of its one call site in the project, or refused naming the flag.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { FIXTURES, runCheckCommand } from './engine-fixtures';

const real = (name: string) => path.join(path.dirname(FIXTURES), 'real-models', name);

const check = runCheckCommand;

test('--model createDeepNet --args [9, 9, 4] checks the exported network factory', async () => {
  const { code, stdout, stderr } = await check([
    real('deep-net.js'),
    '--model',
    'createDeepNet',
    '--args',
    '[9, 9, 4]',
    '--steps',
    '3',
    '--backend',
    'cpu',
    '--json',
  ]);
  assert.equal(code, 0, stderr);
  const report = JSON.parse(stdout);
  assert.equal(report.layers[0].className, 'Conv2D');
  assert.equal(report.layers[0].source.line, 10);
});

test('required parameters and no --args: exit 2 naming them and the flag', async () => {
  const { code, stdout, stderr } = await check([real('deep-net.js'), '--backend', 'cpu']);
  assert.equal(code, 2);
  assert.equal(stdout, '');
  assert.match(
    stderr,
    /deep-net\.js:5:1: createDeepNet\(h, w, numActions\) has no value for h, w, numActions \(got 0 arguments\)\. Pass them with `--args '\[\.\.\.\]'`/,
  );
});

test('no --args: the literal arguments of the one call site in the project are used, and said', async () => {
  const { code, stdout, stderr } = await check([
    real('text-generation/model.js'),
    '--model',
    'createModel',
    '--steps',
    '2',
    '--backend',
    'cpu',
    '--json',
  ]);
  assert.equal(code, 0, stderr);
  assert.match(
    stderr,
    /using the arguments of .*train\.js:8 createModel\(SAMPLE_LEN, CHAR_SET_SIZE, \[16, 16\]\) for createModel\(sampleLen, charSetSize, lstmLayerSizes\): --args '\[12, 20, \[16, 16\]\]'/,
  );
  assert.deepEqual(
    JSON.parse(stdout).layers.map((l: { className: string }) => l.className),
    ['LSTM', 'LSTM', 'Dense'],
  );
});

test('--args that are not literals, or not an array, are usage errors', async () => {
  for (const bad of ['9', '[1, foo()]', '[1,']) {
    const { code, stderr } = await check([real('deep-net.js'), '--args', bad]);
    assert.equal(code, 2, bad);
    assert.match(stderr, /--args: .*\nUsage: normscope check/, bad);
  }
});
