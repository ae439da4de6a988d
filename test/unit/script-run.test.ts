// `normscope run`: training scripts run in-process on their own data (argv, tf.data over local files,
// callbacks, validation), every fit/fitDataset/trainOnBatch measured; the script is ended cleanly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { STAT_NAMES, type ProgressEvent, type RunEvent } from '../../src/protocol';
import { runTraining } from '../../src/worker/engine';
import { runErrorOf } from '../../src/protocol';
import { WorkerClient } from '../../src/runner/workerClient';
import { runInProcess as runModel, runOptions, FIXTURES, WORKER } from './engine-fixtures';
import { capturingProcessOutput } from './capture';

const SCRIPTS = path.join(FIXTURES, '../scripts');
const script = (name: string) => path.join(SCRIPTS, name);
const mean = (xs: (number | null)[]) => xs.reduce<number>((a, b) => a + (b ?? NaN), 0) / xs.length;
/** 1-based line of the first line of `file` containing `text`. */
const lineOf = (file: string, text: string) =>
  fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .findIndex((l) => l.includes(text)) + 1;

/** Runs a script (no arguments unless given). */
function runInProcess(file: string, overrides: Parameters<typeof runModel>[1] = {}) {
  return runModel(file, { ...overrides, script: overrides.script ?? { args: [] } });
}

/** Runs with the script's console output captured. */
async function runCapturing(file: string, overrides: Parameters<typeof runInProcess>[1]) {
  const { value, stdout } = await capturingProcessOutput(() => runInProcess(file, overrides));
  return { ...value, printed: stdout };
}

test('csv script: its argv, tf.data.csv, fit with validationSplit and a callback; the real-data loss falls', async () => {
  const file = script('csv/train.js');
  const argvBefore = process.argv;
  const cwdBefore = process.cwd();
  const { report, error, events, printed } = await runCapturing(file, {
    steps: 40,
    script: { args: ['--epochs', '30', '--learning-rate', '0.01'] },
  });
  assert.ifError(error);
  assert.ok(report);
  assert.equal(report.syntheticData, false);
  assert.equal(report.steps, 40, 'stopped after --steps');
  assert.equal(report.batchSize, 32);
  assert.ok(mean(report.loss.slice(-5)) < 0.3 * mean(report.loss.slice(0, 5)), `loss did not fall: ${report.loss.join(', ')}`);
  assert.match(printed, /Epoch 1\/30: loss=[\d.]+ val_loss=[\d.]+/, 'the callback ran with validation loss');
  assert.match(printed, /Final loss/, 'the script went on after training stopped');
  assert.ok(!/Epoch 9\//.test(printed), 'training went on past the step limit');
  assert.deepEqual(
    report.layers.map((l) => [l.className, l.source?.file, l.source?.line]),
    [
      ['Dense', file, lineOf(file, "units: 32, activation: 'relu'")],
      ['BatchNormalization', file, lineOf(file, 'batchNormalization()')],
      ['Dense', file, lineOf(file, 'units: 16')],
      ['Dense', file, lineOf(file, 'units: 1 }')],
    ],
  );
  const layersEvent = events.find((e) => e.type === 'layers');
  assert.equal(layersEvent?.type === 'layers' && layersEvent.syntheticData, false);
  for (const layer of report.layers) assert.equal(layer.stats.mean?.length, 40, `${layer.name} measured at every step`);
  assert.equal(process.argv, argvBefore, 'process.argv restored');
  assert.equal(process.cwd(), cwdBefore, 'cwd restored');
});

test('--steps all lets the script finish: steps follow its own --epochs flag', async () => {
  const { report, error } = await runInProcess(script('csv/train.js'), { steps: 5, script: { args: ['--epochs', '3'], untilDone: true } });
  assert.ifError(error);
  assert.equal(report!.steps, 3 * Math.ceil((200 * 0.8) / 32));
});

test('fitDataset over a tf.data.csv pipeline with validationData', async () => {
  const { report, error } = await runInProcess(script('csv/train-dataset.js'), {
    steps: 50,
    script: { args: ['--epochs', '3'], untilDone: true },
  });
  assert.ifError(error);
  assert.equal(report!.steps, 3 * 10, '3 epochs of 160 rows in batches of 16');
  assert.equal(report!.batchSize, 16);
  assert.ok(mean(report!.loss.slice(-5)) < mean(report!.loss.slice(0, 5)), 'loss fell');
  assert.ok(report!.layers.some((l) => l.className === 'LayerNormalization' && l.stats.gammaMean));
});

test('GAN: two models trained by trainOnBatch in a custom loop, each with its own layers', async () => {
  const { report, error } = await runInProcess(script('gan/train-gan.js'), { steps: 20, script: { args: ['--iterations', '1000'] } });
  assert.ifError(error);
  assert.ok(report);
  assert.equal(report.steps, 20);
  const names = report.layers.map((l) => l.name);
  assert.deepEqual(names, ['generator/dense1', 'bn1', 'points', 'discriminator/dense1', names[4], 'real_or_fake']);
  assert.equal(report.layers[4].className, 'LeakyReLU');
  assert.equal(new Set(names).size, names.length, 'layer names unique across models');
  const gen = report.layers[0];
  const disc = report.layers[3];
  // Even steps train the discriminator alone; odd steps the combined model (generator + frozen discriminator).
  assert.equal(gen.stats.mean![0], null, 'the generator does not run in a discriminator step');
  assert.equal(typeof gen.stats.mean![1], 'number');
  assert.equal(typeof disc.stats.gradNorm![0], 'number', 'discriminator weights get gradients when it trains');
  assert.equal(disc.stats.gradNorm![1], null, 'the discriminator is frozen in the combined model');
  assert.equal(typeof gen.stats.gradNorm![1], 'number');
  for (const layer of report.layers) assert.match(layer.source?.file ?? '', /train-gan\.js$/);
});

test('a model built in an imported file: layers map to that file; require.main === module holds', async () => {
  const { report, error } = await runInProcess(script('imported/train.js'), { steps: 12 });
  assert.ifError(error);
  const modelFile = script('imported/model.js');
  const dead = report!.layers.find((l) => l.name === 'hidden_dead');
  assert.equal(dead?.source?.file, modelFile);
  assert.equal(dead?.source?.line, lineOf(modelFile, "name: 'hidden_dead'"));
  const finding = report!.findings.find((f) => f.kind === 'dead');
  assert.equal(finding?.layer, 'hidden_dead');
  assert.equal(finding?.source?.file, modelFile);
});

test('a never-cleared interval and a 10,000-step loop: the run ends at the step limit', async () => {
  const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const before = timers();
  const t0 = performance.now();
  const { report, error } = await runInProcess(script('errors/keeps-ticking.js'), { steps: 6 });
  assert.ifError(error);
  assert.equal(report!.steps, 6);
  assert.ok(performance.now() - t0 < 20_000);
  assert.equal(timers(), before, "the script's interval was cleared");
});

test('sampling: every 3rd step measured, the others plain', async () => {
  const { report, events } = await runInProcess(script('errors/keeps-ticking.js'), { steps: 9, samplingInterval: 3 });
  const steps = events.filter((e): e is ProgressEvent => e.type === 'progress').flatMap((e) => e.samples.map((s) => s.step));
  assert.deepEqual(steps, [0, 3, 6]);
  assert.equal(report!.loss.length, 9);
  assert.equal(report!.layers[0].stats.mean?.length, 3);
  assert.ok(STAT_NAMES.length > 0);
});

test('in the forked worker: a rejected main() names the script line that threw; the worker stays usable', async (t) => {
  const client = new WorkerClient({ workerPath: WORKER, runTimeoutMs: 60_000 });
  t.after(() => client.dispose());
  const file = script('errors/rejects.js');
  const error = await client.run(runOptions(file, { steps: 3, script: { args: [] } }), () => undefined).then(() => null, runErrorOf);
  assert.equal(error?.code, 'script-threw');
  assert.equal(error?.file, file);
  assert.equal(error?.line, lineOf(file, 'readFileSync'));
  assert.match(error!.message, /no-such-data\.csv/);
  const report = await client.run(runOptions(script('imported/train.js'), { steps: 3, script: { args: [] } }), () => undefined);
  assert.equal(report.steps, 3);
  assert.equal((await client.ping()).numTensors, 0, 'no tensors left in the worker');
});

test('a failing training step fails the run with the layer, even when the script catches it', async () => {
  const file = script('errors/step-throws.js');
  const { error } = await runInProcess(file, { steps: 3 });
  assert.equal(error?.code, 'training-failed');
  assert.match(error!.message, /Fragile cannot train/);
  assert.equal(error?.file, file);
  assert.match(error!.message, /in layer 'fragile\w*' \(Fragile\)/);
  assert.equal(error?.line, lineOf(file, "throw new Error('Fragile"));
});

test('a script that never trains says what NormScope looks for', async () => {
  const { error } = await runInProcess(script('errors/never-trains.js'), { steps: 3 });
  assert.equal(error?.code, 'no-training');
  assert.match(error!.message, /never-trains\.js finished without training.*fit\(\)/);
});

test('no tensors or variables left behind; later training calls of an ended script are refused', async () => {
  await runInProcess(script('imported/train.js'), { steps: 2 });
  const before = tf.memory().numTensors;
  const { report } = await runInProcess(script('gan/train-gan.js'), { steps: 4 });
  assert.equal(report!.steps, 4);
  // The GAN loop's next trainOnBatch was refused, so the script stopped training at once.
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(tf.memory().numTensors, before);
});

test('cancel mid-fit: fit ends after its batch, the report says cancelled', async () => {
  const controller = new AbortController();
  let cancelledAt = -1;
  const report = await runTraining(
    runOptions(script('imported/train.js'), { steps: 10_000, script: { args: [] } }),
    (e) => {
      if (cancelledAt < 0 && e.type === 'progress' && e.samples.some((s) => s.step >= 5)) {
        cancelledAt = e.samples[e.samples.length - 1].step;
        controller.abort();
      }
    },
    controller.signal,
  );
  assert.equal(report.stoppedEarly, 'cancelled');
  assert.ok(cancelledAt < 39, "cancelled before the script's 40 steps");
  assert.equal(report.steps, cancelledAt + 1, 'no batch after the one in progress');
});

test('in the forked worker: a custom loop with optimizer.minimize is measured, layers attributed through their variables', async (t) => {
  const client = new WorkerClient({ workerPath: WORKER, runTimeoutMs: 60_000 });
  t.after(() => client.dispose());
  const file = script('custom-loop/train-loop.js');
  const events: RunEvent[] = [];
  const report = await client.run(runOptions(file, { steps: 12, script: { args: [] } }), (e) => events.push(e));
  assert.equal(report.steps, 12);
  assert.equal(report.batchSize, 64, 'batch size read from the first measured output');
  assert.deepEqual(
    report.layers.map((l) => [l.name, l.source?.line]),
    [
      ['q_hidden', lineOf(file, "name: 'q_hidden'")],
      ['q_norm', lineOf(file, "name: 'q_norm'")],
      ['q_values', lineOf(file, "name: 'q_values'")],
    ],
  );
  for (const layer of report.layers)
    assert.equal(layer.stats.gradNorm?.filter((v) => typeof v === 'number').length, 12, `${layer.name} has gradients at every step`);
  assert.ok(mean(report.loss.slice(-3)) < mean(report.loss.slice(0, 3)), 'loss fell');
  assert.equal((await client.ping()).numTensors, 0, 'no tensors left in the worker');
});

test("a syntax error names its line; process.exit(2) before training is the run's error", async () => {
  const bad = script('errors/syntax-error.ts');
  const syntax = await runInProcess(bad, { steps: 3 });
  assert.equal(syntax.error?.code, 'syntax');
  assert.equal(syntax.error?.file, bad);
  assert.equal(syntax.error?.line, lineOf(bad, 'const model'));
  const exits = await runInProcess(script('errors/exits-early.js'), { steps: 3 });
  assert.equal(exits.error?.code, 'script-exit');
  assert.match(exits.error!.message, /exits-early\.js called process\.exit\(2\)/);
  assert.equal(process.exit.name, 'exit', 'process.exit restored');
});

test('in the forked worker: a script that fails after training still reports its measurements, saying where it failed', async (t) => {
  const client = new WorkerClient({ workerPath: WORKER, runTimeoutMs: 60_000 });
  t.after(() => client.dispose());
  const file = script('errors/save-fails.js');
  const report = await client.run(runOptions(file, { steps: 50, script: { args: [] } }), () => undefined);
  assert.equal(report.steps, 2 * 4, 'trained to the end');
  assert.match(
    report.stoppedEarly ?? '',
    new RegExp(`the script failed after training: .*save-fails\\.js:${lineOf(file, 'model.save')}:\\d+: save-fails\\.js failed:`),
  );
  assert.ok(!fs.existsSync(path.join(path.dirname(file), 'saved-model')));
});
