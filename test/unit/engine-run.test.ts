// The in-process engine: event order, batched progress with every step, hand-checked values,
// sampling, cancellation, non-finite loss, and no tensor leaks across runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { STAT_NAMES, type ProgressEvent } from '../../src/protocol';
import { assertClose } from './close';
import { fixture, runInProcess, EXAMPLES } from './engine-fixtures';
import * as path from 'node:path';

const at = (values: number[], layer: number, stat: (typeof STAT_NAMES)[number]) =>
  values[layer * STAT_NAMES.length + STAT_NAMES.indexOf(stat)];

test('events: backend, layers, progress (every step, batched), findings, done', async () => {
  const { report, events } = await runInProcess(fixture('create-model-factory.js'), { steps: 12 });
  assert.ok(report);
  const types = events.map((e) => e.type);
  assert.equal(types[0], 'backend');
  assert.equal(types[1], 'layers');
  assert.equal(types[types.length - 1], 'done');
  const steps = events.filter((e): e is ProgressEvent => e.type === 'progress').flatMap((e) => e.samples.map((s) => s.step));
  assert.deepEqual(steps, [...Array(12).keys()], 'no step dropped or repeated');
  assert.ok(events.filter((e) => e.type === 'progress').length < 12, 'samples are batched into fewer messages');
  assert.ok(types.includes('findings'));
  assert.equal(report.steps, 12);
  assert.equal(report.loss.length, 12);
  assert.equal(report.layers.length, 4);
  for (const layer of report.layers) assert.equal(layer.stats.mean!.length, 12);
});

test('hand-checked values: y = x·W, W = [1, 1], x = [1, 2], MSE to 0, SGD(0.1)', async () => {
  const { report, events } = await runInProcess(fixture('known-gradients.js'), { steps: 1 });
  assert.ok(report);
  const sample = events.flatMap((e) => (e.type === 'progress' ? e.samples : []))[0];
  const close = (a: number, b: number, what: string) => assertClose(a, b, what, 1e-4);
  close(sample.loss, 9, 'loss = (3 − 0)²');
  close(at(sample.values, 0, 'mean'), 3, 'output mean');
  close(at(sample.values, 0, 'activationGradNorm'), 6, '∂loss/∂y = 2·3');
  close(at(sample.values, 0, 'gradNorm'), Math.sqrt(180), '‖[6, 12]‖');
  close(at(sample.values, 0, 'weightNorm'), Math.SQRT2, '‖[1, 1]‖');
  close(at(sample.values, 0, 'updateNorm'), 0.1 * Math.sqrt(180), '‖0.1·[6, 12]‖');
  close(at(sample.values, 0, 'updateRatio'), (0.1 * Math.sqrt(180)) / Math.SQRT2, 'update / weight');
  assert.ok(Number.isNaN(at(sample.values, 0, 'deadFraction')), 'a linear layer has no dead units');
  assert.equal(report.syntheticData, false);
});

test('an example with BN and LN: norm stats present, loss finite, source lines set', async () => {
  const { report } = await runInProcess(path.join(EXAMPLES, 'mlp-bn-ln.js'), { steps: 4 });
  assert.ok(report);
  const bn = report.layers.find((l) => l.className === 'BatchNormalization')!;
  for (const stat of ['gammaMean', 'gammaStd', 'betaMean', 'movingMeanGap', 'movingVarGap'] as const)
    assert.equal(bn.stats[stat]!.length, 4, stat);
  const ln = report.layers.find((l) => l.className === 'LayerNormalization')!;
  assert.ok(ln.stats.gammaMean && !ln.stats.movingMeanGap);
  assert.ok(report.loss.every((l) => l !== null && Number.isFinite(l)));
  assert.ok(report.layers.every((l) => l.source !== null));
});

test('samplingInterval measures every Nth step but records every loss', async () => {
  const { report } = await runInProcess(fixture('module-exports-model.js'), { steps: 7, samplingInterval: 3 });
  assert.ok(report);
  assert.deepEqual(report.layers[0].sampledSteps, [0, 3, 6]);
  assert.equal(report.loss.length, 7);
  assert.ok(report.timing.plainStepMs !== null, 'unsampled steps are plain steps and timed');
});

test('measureOverhead reports the plain step time', async () => {
  const { report } = await runInProcess(fixture('module-exports-model.js'), { steps: 3, measureOverhead: true });
  assert.ok(report && report.timing.plainStepMs !== null && report.timing.instrumentedStepMs > 0);
});

test('a NaN loss stops the run early with a report, not an error', async () => {
  const { report } = await runInProcess(fixture('nan-loss.js'), { steps: 5 });
  assert.ok(report);
  assert.match(report.stoppedEarly ?? '', /non-finite loss at step 0/);
  assert.deepEqual(report.loss, [null]);
});

test('cancel: the run stops at the next step with stoppedEarly = cancelled', async () => {
  const controller = new AbortController();
  const started = Date.now();
  setTimeout(() => controller.abort(), 300);
  const { report } = await runInProcess(fixture('slow-model.js'), { steps: 100000 }, controller.signal);
  assert.ok(report);
  assert.equal(report.stoppedEarly, 'cancelled');
  assert.ok(Date.now() - started < 1300, `stopped ${Date.now() - started} ms after start`);
  assert.ok(report.loss.length > 0 && report.loss.length < 100000);
});

test('numTensors is the same before and after runs (10 runs, including failing ones)', async () => {
  await runInProcess(fixture('module-exports-model.js'));
  const before = tf.memory().numTensors;
  const files = [
    'module-exports-model.js',
    'known-gradients.js',
    'typescript-model.ts',
    'default-factory.js',
    'errors/throws-in-layer.js',
    'model-json/model.json',
    'nan-loss.js',
    'export-const-model.js',
    'errors/factory-throws.js',
    'tfjs-layers-core-import.js',
  ];
  for (const file of files) await runInProcess(fixture(file), { measureOverhead: true });
  assert.equal(tf.memory().numTensors, before);
});

test('the wasm backend trains a CNN (conv gradients included)', async () => {
  const { report, error } = await runInProcess(path.join(EXAMPLES, 'saved-cnn/model.json'), { steps: 2, backend: 'wasm' });
  assert.equal(error, undefined);
  assert.equal(report!.backend, 'wasm');
  assert.ok(report!.loss.every((l) => l !== null));
  await tf.setBackend('cpu');
});

test('host and device meters give the same step values on a model with BN and LN', async () => {
  const { selectBackend } = await import('../../src/worker/backend');
  const { loadModel } = await import('../../src/worker/loader');
  const { describeLayers } = await import('../../src/worker/instrument/probes');
  const { Instrumenter } = await import('../../src/worker/instrument/hooks');
  const { DeviceMeter, HostMeter, viewFor } = await import('../../src/worker/instrument/meters');
  const { instrumentedStep } = await import('../../src/worker/instrument/step');
  const { withSeededRandom } = await import('../../src/worker/training/seed');
  const { batchSource, ensureCompiled, trainableOf } = await import('../../src/worker/training/spec');
  await selectBackend('cpu');
  const file = path.join(EXAMPLES, 'mlp-bn-ln.js');
  const stepWith = async (meter: () => import('../../src/worker/instrument/meters').Meter) => {
    const loaded = await withSeededRandom(11, () => loadModel(file));
    ensureCompiled(loaded.model, {});
    const probes = describeLayers(loaded.model, loaded.sourceOf);
    const instrumenter = new Instrumenter(probes);
    const source = await batchSource(loaded.model, {}, 16, 11, file);
    const ctx = {
      model: loaded.model,
      trainable: trainableOf(loaded.model),
      probes,
      instrumenter,
      meter,
      variables: loaded.model.trainableWeights.map((w) => w.read() as tf.Variable),
    };
    const batch = await source.next();
    instrumentedStep(ctx, batch);
    const result = instrumentedStep(ctx, batch); // second step: moving statistics have moved
    instrumenter.restore();
    source.dispose();
    loaded.model.dispose();
    return result;
  };
  const host = await stepWith(() => new HostMeter(viewFor('cpu')!));
  const device = await stepWith(() => new DeviceMeter());
  assert.ok(Math.abs(host.loss - device.loss) < 1e-5);
  host.values.forEach((v, i) => {
    const d = device.values[i];
    const what = `layer ${Math.floor(i / STAT_NAMES.length)} ${STAT_NAMES[i % STAT_NAMES.length]}`;
    if (Number.isNaN(v)) assert.ok(Number.isNaN(d), `${what}: host NaN, device ${d}`);
    else assert.ok(Math.abs(v - d) <= 1e-3 * Math.max(1, Math.abs(v)), `${what}: host ${v}, device ${d}`);
  });
});
