// Every way a model file may export its model, TS and model.json, and the source line of each layer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import '../../src/worker/backend';
import { loadModel } from '../../src/worker/loader';
import { describeLayers } from '../../src/worker/instrument/probes';
import { fixture, runInProcess } from './engine-fixtures';

async function layersOf(name: string) {
  await tf.setBackend('cpu');
  const loaded = await loadModel(fixture(name));
  const layers = describeLayers(loaded.model, loaded.sourceOf).map((p) => p.info);
  loaded.model.dispose();
  return layers;
}

const lines = (layers: { source: { line: number } | null }[]) => layers.map((l) => l.source?.line ?? null);

test('module.exports = model', async () => {
  const layers = await layersOf('module-exports-model.js');
  assert.deepEqual(
    layers.map((l) => l.className),
    ['Dense', 'Dense'],
  );
  assert.deepEqual(lines(layers), [5, 6]);
  assert.equal(layers[0].activation, 'relu');
});

test('export default model (ESM)', async () => {
  const layers = await layersOf('export-default-model.js');
  assert.deepEqual(lines(layers), [6, 7]);
  assert.equal(layers[1].activation, 'sigmoid');
});

test('export const model, compiled: keeps its optimizer and loss', async () => {
  const { report } = await runInProcess(fixture('export-const-model.js'));
  assert.ok(report);
  assert.deepEqual(lines(report.layers), [5]);
  assert.equal(report.syntheticData, true);
});

test('createModel() factory with layers made in a loop: each gets the line of its factory call', async () => {
  const layers = await layersOf('create-model-factory.js');
  assert.deepEqual(lines(layers), [6, 8, 8, 10]);
});

test('async buildModel() factory', async () => {
  const layers = await layersOf('build-model-async.js');
  assert.deepEqual(lines(layers), [6]);
});

test('export default factory building a functional model (InputLayer excluded)', async () => {
  const layers = await layersOf('default-factory.js');
  assert.deepEqual(
    layers.map((l) => l.className),
    ['Dense', 'Dense', 'Add', 'Dense'],
  );
  assert.deepEqual(lines(layers), [6, 7, 8, 9]);
});

test('TypeScript with a relative helper import and a custom layer class', async () => {
  const layers = await layersOf('typescript-model.ts');
  assert.deepEqual(
    layers.map((l) => l.className),
    ['Dense', 'Dense', 'LayerNormalization', 'Dense', 'LayerNormalization', 'Scale', 'Dense'],
  );
  const helper = layers[1].source!;
  assert.match(helper.file, /helpers[\\/]blocks\.ts$/);
  assert.equal(helper.line, 6);
  assert.equal(layers[2].source!.line, 7);
  assert.equal(layers[2].isNorm, true);
  // `new Scale(0.5)` on line 21, not the super() call inside the class.
  assert.match(layers[5].source!.file, /typescript-model\.ts$/);
  assert.equal(layers[5].source!.line, 21);
});

test("require('@tensorflow/tfjs-node') resolves to the worker's tf", async () => {
  const layers = await layersOf('tfjs-node-import.js');
  assert.deepEqual(
    layers.map((l) => l.className),
    ['Dense', 'Dense'],
  );
  assert.deepEqual(lines(layers), [5, 5]);
});

test('@tensorflow/tfjs-layers and -core imports, with normscope.data', async () => {
  const { report } = await runInProcess(fixture('tfjs-layers-core-import.js'));
  assert.ok(report);
  assert.equal(report.syntheticData, false);
  assert.equal(report.batchSize, 4);
});

test('model.json with its weights: layers have no source line', async () => {
  const { report } = await runInProcess(fixture('model-json/model.json'));
  assert.ok(report);
  assert.deepEqual(
    report.layers.map((l) => l.name),
    ['hidden', 'bn', 'head'],
  );
  assert.ok(report.layers.every((l) => l.source === null));
  assert.ok(report.layers[1].stats.gammaMean, 'BatchNorm stats are measured for loaded models too');
});

test('the same seed gives the same weights and losses', async () => {
  const a = await runInProcess(fixture('create-model-factory.js'), { seed: 3 });
  const b = await runInProcess(fixture('create-model-factory.js'), { seed: 3 });
  const c = await runInProcess(fixture('create-model-factory.js'), { seed: 4 });
  assert.deepEqual(a.report!.loss, b.report!.loss);
  assert.notDeepEqual(a.report!.loss, c.report!.loss);
});
