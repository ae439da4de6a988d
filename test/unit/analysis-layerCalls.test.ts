import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findLayerCalls, findModelDefinitions, layerCallAt, parseModelSource } from '../../src/analysis/layerCalls';
import { bigModelFile } from '../bench/bigModelFile';

test('finds tf.layers factories through every kind of tfjs alias', () => {
  const src = [
    "import * as tfl from '@tensorflow/tfjs-node';",
    "const T = require('@tensorflow/tfjs');",
    "const { layers: L } = require('@tensorflow/tfjs');",
    "import { layers } from '@tensorflow/tfjs';",
    'const { dense: D, conv2d } = T.layers;',
    'const LL = tfl.layers;',
    'tfl.layers.dense({ units: 1 });',
    'T.layers.batchNormalization();',
    'L.layerNormalization();',
    'layers.lstm({ units: 4 });',
    'D({ units: 2 });',
    'conv2d({ filters: 3, kernelSize: 3 });',
    'LL.maxPool2d({});',
    'tf.layers.dropout({ rate: 0.1 });',
  ].join('\n');
  const calls = findLayerCalls(src, 'm.ts');
  assert.deepEqual(
    calls.map((c) => [c.factory, c.className, c.line]),
    [
      ['dense', 'Dense', 7],
      ['batchNormalization', 'BatchNormalization', 8],
      ['layerNormalization', 'LayerNormalization', 9],
      ['lstm', 'LSTM', 10],
      ['dense', 'Dense', 11],
      ['conv2d', 'Conv2D', 12],
      ['maxPool2d', 'MaxPooling2D', 13],
      ['dropout', 'Dropout', 14],
    ],
  );
  assert.deepEqual(
    calls.map((c) => c.isNorm),
    [false, true, true, false, false, false, false, false],
  );
});

test('ignores look-alikes that are not tfjs', () => {
  const src = [
    "import * as keras from 'some-other-lib';",
    'keras.layers.dense({ units: 1 });',
    'foo.dense({});',
    'new Map();',
    'new Dense2();',
    'tf.sequential().add;',
  ].join('\n');
  assert.deepEqual(findLayerCalls(src, 'm.js'), []);
});

test('new expressions of known layer classes, including NormScope norms', () => {
  const src = [
    "import { GroupNormalization, RMSNormalization } from '../layers';",
    'new GroupNormalization({ groups: 8 });',
    'new RMSNormalization();',
    'new ns.InstanceNormalization({ axis: -1 });',
    'new WeightNormalization({ layer: tf.layers.dense({ units: 3 }) });',
    'new tf.layers.Layer({});',
  ].join('\n');
  const calls = findLayerCalls(src, 'm.ts');
  assert.deepEqual(
    calls.map((c) => [c.className, c.factory, c.via, c.isNorm]),
    [
      ['GroupNormalization', 'groupNormalization', 'new', true],
      ['RMSNormalization', 'rmsNormalization', 'new', true],
      ['InstanceNormalization', 'instanceNormalization', 'new', true],
      ['WeightNormalization', 'weightNormalization', 'new', true],
      ['Dense', 'dense', 'factory', false],
    ],
  );
  assert.equal(calls[2].config?.axis.value, -1);
});

test('positions and offsets are consistent with the text', () => {
  const src = "const a = 1;\n  const bn = tf.layers.batchNormalization({ momentum: 0.9, axis: [1, 2], name: 'bn' + i, epsilon });\n";
  const [c] = findLayerCalls(src, 'm.js');
  assert.equal(c.line, 2);
  assert.equal(c.column, 14);
  assert.equal(src.slice(c.start, c.end), "tf.layers.batchNormalization({ momentum: 0.9, axis: [1, 2], name: 'bn' + i, epsilon })");
  assert.equal(src.slice(c.calleeStart, c.calleeEnd), 'tf.layers.batchNormalization');
  assert.equal(src.slice(c.argsStart, c.argsEnd), "{ momentum: 0.9, axis: [1, 2], name: 'bn' + i, epsilon }");
  assert.equal(src.slice(c.configStart!, c.configEnd!), src.slice(c.argsStart, c.argsEnd));
  assert.equal(c.binding, 'bn');
  const cfg = c.config!;
  assert.equal(cfg.momentum.value, 0.9);
  assert.deepEqual(cfg.axis.value, [1, 2]);
  assert.equal(cfg.name.value, undefined);
  assert.equal(cfg.name.text, "'bn' + i");
  assert.equal(cfg.epsilon.text, 'epsilon');
  assert.equal(src.slice(cfg.momentum.start, cfg.momentum.end), 'momentum: 0.9');
  assert.equal(src.slice(cfg.axis.valueStart, cfg.axis.valueEnd), '[1, 2]');
});

test('functional API: chained and bound .apply with inputs and outputs', () => {
  const src = [
    'const x = tf.input({ shape: [4] });',
    'let h = tf.layers.dense({ units: 4 }).apply(x);',
    'const norm = tf.layers.layerNormalization();',
    'const s = tf.layers.add().apply([x, h]);',
    'h = norm.apply(s);',
    'const model = tf.model({ inputs: x, outputs: h });',
  ].join('\n');
  const p = parseModelSource(src, 'f.js');
  const [dense, ln, add] = p.calls;
  assert.deepEqual(dense.apply && { inputs: dense.apply.inputs, output: dense.apply.output }, { inputs: ['x'], output: 'h' });
  assert.deepEqual(ln.apply && { inputs: ln.apply.inputs, output: ln.apply.output }, { inputs: ['s'], output: 'h' });
  assert.equal(src.slice(ln.apply!.start, ln.apply!.end), 'norm.apply(s)');
  assert.deepEqual(add.apply?.inputs, ['x', 'h']);
  assert.deepEqual(
    p.models.map((m) => [m.kind, m.name]),
    [['model', 'model']],
  );
  assert.deepEqual(
    p.calls.map((c) => c.model),
    [0, 0, 0],
  );
});

test('model definitions: sequential, model and factories (ESM and CommonJS)', () => {
  const src = [
    'export function createModel() {',
    '  const m = tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [3] })] });',
    '  return m;',
    '}',
    'export const buildModel = () => tf.sequential();',
    'export default function () { return tf.sequential(); }',
    'exports.createModel = function () {};',
    'module.exports = async () => {};',
    'function helper() { return 1; }',
    "const { sequential } = require('@tensorflow/tfjs');",
    'const seq = sequential();',
    'seq.add(tf.layers.dense({ units: 1 }));',
    'const free = tf.layers.dense({ units: 9 });',
    'seq.add(free);',
  ].join('\n');
  const p = parseModelSource(src, 'x.js');
  assert.deepEqual(
    p.models.map((m) => [m.kind, m.name ?? null, m.line, m.container]),
    [
      ['factory', 'createModel', 1, null],
      ['sequential', 'm', 2, 0],
      ['factory', 'buildModel', 5, null],
      ['sequential', null, 5, 2],
      ['factory', 'default', 6, null],
      ['sequential', null, 6, 4],
      ['factory', 'createModel', 7, null],
      ['factory', 'default', 8, null],
      ['sequential', 'seq', 11, null],
    ],
  );
  assert.deepEqual(
    p.calls.map((c) => [c.line, c.model]),
    [
      [2, 1],
      [12, 8],
      [13, 8],
    ],
  );
  assert.equal(findModelDefinitions(src, 'x.js').length, 9);
});

test('layerCallAt returns the innermost call under the cursor', () => {
  const src = 'tf.layers.timeDistributed({ layer: tf.layers.dense({ units: 2 }) });\nconst z = 1;';
  const calls = findLayerCalls(src, 'x.js');
  assert.equal(calls.length, 2);
  assert.equal(layerCallAt(calls, src.indexOf('units'))?.factory, 'dense');
  assert.equal(layerCallAt(calls, src.indexOf('timeDistributed'))?.factory, 'timeDistributed');
  assert.equal(layerCallAt(calls, src.indexOf('layer:'))?.factory, 'timeDistributed');
  assert.equal(layerCallAt(calls, src.indexOf('const z')), undefined);
});

test('indexes every layer call of a 2,000-line model file, the same on every parse', () => {
  const src = bigModelFile();
  const lineCount = src.split('\n').length;
  assert.ok(lineCount >= 1980 && lineCount <= 2000);
  const first = parseModelSource(src, 'big.ts');
  assert.equal(first.calls.length, 8 * 99);
  assert.deepEqual(
    parseModelSource(src, 'big.ts').calls.map((c) => c.start),
    first.calls.map((c) => c.start),
  );
});
