// Real-world model files (test/fixtures/real-models, in the style of tfjs-examples) check with no edits:
// builder functions of any name, exported or not, arguments from call sites / --args / defaults / the spec,
// synthetic data that fits the compiled loss, and clear messages for what cannot run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { findCallSites } from '../../src/analysis/callSites';
import { FIXTURES, runInProcess } from './engine-fixtures';

const REAL = path.join(path.dirname(FIXTURES), 'real-models');
const real = (name: string) => path.join(REAL, name);
const finalLossBelowFirst = (loss: (number | null)[]) => loss.every((l) => l !== null && Number.isFinite(l));

test('factory with parameters: the literal arguments of its call site in another file make it run (LSTM, recurrent sequences)', async () => {
  const target = real('text-generation/model.js');
  const files = ['model.js', 'train.js'].map((f) => ({
    file: real(`text-generation/${f}`),
    text: fs.readFileSync(real(`text-generation/${f}`), 'utf8'),
  }));
  const sites = findCallSites(files, target, 'createModel');
  assert.deepEqual(
    sites.map((s) => [path.basename(s.file), s.line, s.args]),
    [['train.js', 8, [12, 20, [16, 16]]]],
  );
  const { report, error } = await runInProcess(target, { model: 'createModel', args: sites[0].args });
  assert.equal(error, undefined, error?.message);
  assert.deepEqual(
    report!.layers.map((l) => [l.className, l.source?.line]),
    [
      ['LSTM', 12],
      ['LSTM', 12],
      ['Dense', 18],
    ],
  );
  assert.ok(finalLossBelowFirst(report!.loss));
});

test('the same factory with no arguments fails naming its parameters and the flag, without calling it', async () => {
  const { error } = await runInProcess(real('text-generation/model.js'));
  assert.equal(error?.code, 'missing-args');
  assert.match(
    error!.message,
    /createModel\(sampleLen, charSetSize, lstmLayerSizes\) has no value for sampleLen, charSetSize, lstmLayerSizes \(got 0 arguments\)/,
  );
  assert.match(error!.message, /--args/);
  assert.equal(error!.line, 5);
});

test('exported createDeepNet(h, w, numActions) given args; too few args name the missing ones', async () => {
  const { report, error } = await runInProcess(real('deep-net.js'), { model: 'createDeepNet', args: [9, 9, 4] });
  assert.equal(error, undefined, error?.message);
  assert.deepEqual(
    report!.layers.map((l) => l.className),
    ['Conv2D', 'BatchNormalization', 'Conv2D', 'Flatten', 'Dense', 'Dropout', 'Dense'],
  );
  const short = await runInProcess(real('deep-net.js'), { model: 'createDeepNet', args: [9] });
  assert.equal(short.error?.code, 'missing-args');
  assert.match(short.error!.message, /has no value for w, numActions \(got 1 argument\)/);
});

test('a non-exported builder in a training script is found and called (main() is not run)', async () => {
  const { report, error } = await runInProcess(real('not-exported.js'));
  assert.equal(error, undefined, error?.message);
  assert.deepEqual(
    report!.layers.map((l) => l.source?.line),
    [7, 8, 9],
  );
  const named = await runInProcess(real('not-exported.js'), { model: 'buildClassifier' });
  assert.equal(named.error, undefined);
});

test('sparseCategoricalCrossentropy gets integer class ids (not one-hot rows)', async () => {
  const { report, error } = await runInProcess(real('sparse-classifier.js'), { steps: 4 });
  assert.equal(error, undefined, error?.message);
  assert.equal(report!.syntheticData, true);
  assert.ok(report!.loss.every((l) => l !== null && l > 0 && l < 10));
});

test('Embedding + LSTM with default parameter values: integer word ids below inputDim', async () => {
  const { report, error } = await runInProcess(real('sentiment-lstm.ts'));
  assert.equal(error, undefined, error?.message);
  assert.deepEqual(
    report!.layers.map((l) => l.className),
    ['Embedding', 'LSTM', 'Dense'],
  );
});

test('two inputs, two outputs, a loss per output name', async () => {
  const { report, error } = await runInProcess(real('two-heads.js'));
  assert.equal(error, undefined, error?.message);
  assert.ok(report!.layers.some((l) => l.name === 'label') && report!.layers.some((l) => l.name === 'score'));
  assert.ok(report!.loss.every((l) => l !== null && Number.isFinite(l)));
});

test('several builders and no choice: the error lists each with its parameters and line', async () => {
  const { error } = await runInProcess(real('returns-layers.js'), { model: 'nope' });
  assert.equal(error?.code, 'no-model');
  assert.match(error!.message, /has no function 'nope'\. Functions that build a model: encoder\(opts\) \(line 4\)/);
});

test('a function returning something else says what it returned', async () => {
  const { error } = await runInProcess(real('returns-layers.js'), { model: 'encoder', args: [{ latent: 2, inputSize: 4 }] });
  assert.equal(error?.code, 'no-model');
  assert.match(error!.message, /encoder\(\) returned an object with keys model, latent \(model holds a tf\.LayersModel/);
});

test('browser-only code and a missing npm package get messages that say so', async () => {
  const browser = await runInProcess(real('browser-only.js'));
  assert.equal(browser.error?.code, 'browser-only');
  assert.match(browser.error!.message, /uses `document`, which exists only in a web browser/);
  assert.equal(browser.error!.line, 5);
  const page = await runInProcess(real('browser-ui.js'));
  assert.equal(page.error?.code, 'browser-only');
  assert.match(page.error!.message, /browser-ui\.js threw while loading: it uses `document`/);
  assert.equal(page.error!.line, 4);
  const missing = await runInProcess(real('missing-package.js'));
  assert.equal(missing.error?.code, 'missing-package');
  assert.match(
    missing.error!.message,
    /npm package 'normscope-fixture-csv-parser' is not installed\. Run `npm install normscope-fixture-csv-parser` in \//,
  );
});

test('the spec gives a factory its arguments per function; the rest take their defaults', async () => {
  const { report, error } = await runInProcess(real('spec-args.js'));
  assert.equal(error, undefined, error?.message);
  assert.equal(report!.steps, 2);
  assert.deepEqual(
    report!.layers.map((l) => l.className),
    ['Dense', 'Dense'],
  );
});

test('export default function with a parameter: the message names the parameter; --args makes it run', async () => {
  const { error } = await runInProcess(real('default-factory-args.mjs'));
  assert.equal(error?.code, 'missing-args');
  assert.match(error!.message, /createModel\(inputSize\) has no value for inputSize/);
  const { report } = await runInProcess(real('default-factory-args.mjs'), { args: [3] });
  assert.equal(report?.layers.length, 1);
});

test('several builders (jena-weather style): the exported buildModel needs arguments and the others are listed; with them it runs', async () => {
  const { error } = await runInProcess(real('jena-weather.js'));
  assert.equal(error?.code, 'missing-args');
  assert.match(error!.message, /buildModel\(modelType, numTimeSteps, numFeatures\) has no value for modelType, numTimeSteps, numFeatures/);
  assert.match(
    error!.message,
    /Other functions here that build a model \(choose one with --model\): buildLinearRegressionModel\(inputShape\) \(line 4\), buildMLPModel\(inputShape, kernelRegularizer, dropoutRate\) \(line 11\)/,
  );
  const { report } = await runInProcess(real('jena-weather.js'), { model: 'buildModel', args: ['gru', 10, 4] });
  assert.deepEqual(
    report?.layers.map((l) => [l.className, l.source?.line]),
    [
      ['GRU', 25],
      ['Dense', 26],
    ],
  );
});
