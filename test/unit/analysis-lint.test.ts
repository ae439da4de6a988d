import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lintSource } from '../../src/analysis/lint';
import { parseModelSource } from '../../src/analysis/layerCalls';

const kinds = (src: string, opts = {}) => lintSource(src, '/w/model.js', opts).map((f) => [f.kind, f.source?.line, f.severity]);

const CNN_BN = (batch: number) => `import * as tf from '@tensorflow/tfjs';
export function createModel() {
  const m = tf.sequential();
  m.add(tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 8, kernelSize: 3 }));
  m.add(tf.layers.batchNormalization());
  m.add(tf.layers.flatten());
  m.add(tf.layers.dense({ units: 4 }));
  m.add(tf.layers.batchNormalization({ name: 'bn_dense' }));
  return m;
}
export const normscope = { batchSize: ${batch} };`;

test('bn-small-batch: each BatchNorm, GroupNorm for feature maps and LayerNorm for vectors', () => {
  const f = lintSource(CNN_BN(4), '/w/model.js');
  assert.deepEqual(
    f.map((x) => [x.kind, x.layer, x.source?.line, x.severity, x.step, x.refactor]),
    [
      ['bn-small-batch', 'BatchNormalization', 5, 'warning', null, { action: 'swap', to: 'groupNorm' }],
      ['bn-small-batch', 'bn_dense', 8, 'warning', null, { action: 'swap', to: 'layerNorm' }],
    ],
  );
  assert.deepEqual(f[0].source, { file: '/w/model.js', line: 5, column: 9 });
  assert.match(f[0].message, /batch size 4 \(line 11\)/);
  assert.equal(lintSource(CNN_BN(1), '/w/model.js')[0].severity, 'error');
  assert.match(lintSource(CNN_BN(1), '/w/model.js')[0].message, /variance is 0/);
  assert.deepEqual(kinds(CNN_BN(16)), []);
});

test('bn-small-batch reads fit options, dataset.batch and consts; options fill in when the source is silent', () => {
  const fit =
    'const BATCH = 8;\nconst m = tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [3] }), tf.layers.batchNormalization()] });\nm.fit(xs, ys, { batchSize: BATCH, epochs: 1 });';
  assert.deepEqual(kinds(fit), [['bn-small-batch', 2, 'warning']]);
  const ds =
    'const m = tf.sequential();\nm.add(tf.layers.batchNormalization({ inputShape: [3] }));\nawait m.fitDataset(data.batch(2), {});';
  assert.deepEqual(kinds(ds), [['bn-small-batch', 2, 'error']]);
  const silent = 'const m = tf.sequential();\nm.add(tf.layers.batchNormalization({ inputShape: [3] }));';
  assert.deepEqual(kinds(silent), []);
  assert.deepEqual(kinds(silent, { batchSize: 8 }), [['bn-small-batch', 2, 'warning']]);
  assert.deepEqual(kinds(silent, { batchSize: 32 }), []);
});

test('bn-in-recurrent: between recurrent layers or inside a recurrent wrapper, not after the stack', () => {
  const between = `const m = tf.sequential();
m.add(tf.layers.lstm({ units: 8, returnSequences: true, inputShape: [10, 4] }));
m.add(tf.layers.batchNormalization());
m.add(tf.layers.dropout({ rate: 0.1 }));
m.add(tf.layers.gru({ units: 8 }));
m.add(tf.layers.batchNormalization());
m.add(tf.layers.dense({ units: 1 }));`;
  const f = lintSource(between, '/w/rnn.js');
  assert.deepEqual(
    f.map((x) => [x.kind, x.source?.line, x.refactor]),
    [['bn-in-recurrent', 3, { action: 'swap', to: 'layerNorm' }]],
  );
  assert.match(f[0].message, /between LSTM and GRU/);
  const inside =
    'const m = tf.sequential();\nm.add(tf.layers.bidirectional({ layer: tf.layers.lstm({ units: 4 }) }));\nm.add(tf.layers.rnn({ cell: [tf.layers.batchNormalization()] }));';
  assert.deepEqual(kinds(inside), [['bn-in-recurrent', 3, 'warning']]);
});

test('ln-on-conv: LayerNorm fed by a conv stack (through pooling/activation), not after flatten', () => {
  const src = `const x = tf.input({ shape: [32, 32, 3] });
let h = tf.layers.conv2d({ filters: 16, kernelSize: 3 }).apply(x);
h = tf.layers.maxPooling2d({ poolSize: 2 }).apply(h);
h = tf.layers.activation({ activation: 'relu' }).apply(h);
h = tf.layers.layerNormalization().apply(h);
let v = tf.layers.flatten().apply(h);
v = tf.layers.layerNormalization().apply(v);
const model = tf.model({ inputs: x, outputs: v });`;
  const f = lintSource(src, '/w/conv.js');
  assert.deepEqual(
    f.map((x) => [x.kind, x.source?.line, x.refactor]),
    [['ln-on-conv', 5, { action: 'swap', to: 'groupNorm' }]],
  );
  assert.match(f[0].message, /GroupNorm/);
});

test('l2-before-norm: regularized kernel straight into a norm (not through tanh, not without a norm)', () => {
  const src = `const m = tf.sequential();
m.add(tf.layers.dense({ units: 8, inputShape: [4], kernelRegularizer: tf.regularizers.l2({ l2: 1e-4 }) }));
m.add(tf.layers.batchNormalization());
m.add(tf.layers.dense({ units: 8, activation: 'tanh', kernelRegularizer: tf.regularizers.l2() }));
m.add(tf.layers.layerNormalization());
m.add(tf.layers.dense({ units: 8, kernelRegularizer: tf.regularizers.l2() }));
m.add(tf.layers.dense({ units: 1 }));`;
  const f = lintSource(src, '/w/l2.js');
  assert.deepEqual(
    f.map((x) => [x.kind, x.source?.line, x.severity, x.refactor]),
    [['l2-before-norm', 2, 'info', { action: 'remove-regularizer' }]],
  );
  assert.match(f[0].message, /effective learning rate/);
});

test('post-norm: norm applied to a residual sum, chained or by name; pre-norm is fine', () => {
  const post = `function block(x) {
  let h = tf.layers.dense({ units: 16, activation: 'relu' }).apply(x);
  const s = tf.layers.add().apply([x, h]);
  return tf.layers.layerNormalization().apply(s);
}
function nested(x) {
  const h = tf.layers.dense({ units: 16 }).apply(x);
  return tf.layers.layerNormalization().apply(tf.layers.add().apply([x, h]));
}
function pre(x) {
  let h = tf.layers.layerNormalization().apply(x);
  h = tf.layers.dense({ units: 16 }).apply(h);
  return tf.layers.add().apply([x, h]);
}`;
  const f = lintSource(post, '/w/res.js');
  assert.deepEqual(
    f.map((x) => [x.kind, x.source?.line, x.severity, x.refactor]),
    [
      ['post-norm', 4, 'info', { action: 'pre-norm' }],
      ['post-norm', 8, 'info', { action: 'pre-norm' }],
    ],
  );
  const deep = `const x = tf.input({ shape: [16] });\nlet h = x;\nfor (let i = 0; i < 6; i++) {\n  const f = tf.layers.dense({ units: 16 }).apply(h);\n  h = tf.layers.add().apply([h, f]);\n  h = tf.layers.layerNormalization().apply(h);\n}\nconst model = tf.model({ inputs: x, outputs: h });`;
  assert.deepEqual(kinds(deep), [['post-norm', 6, 'warning']]);
});

test('missing-norm: ≥ 8 weight layers (loops counted) without any norm', () => {
  const loop = (n: number, norm = '') => `export function createModel() {
  const m = tf.sequential();
  m.add(tf.layers.dense({ units: 32, inputShape: [8], activation: 'relu' }));
  for (let i = 0; i < ${n}; i++) {
    m.add(tf.layers.dense({ units: 32, activation: 'relu' }));${norm}
  }
  return m;
}`;
  const f = lintSource(loop(7), '/w/deep.js');
  assert.deepEqual(
    f.map((x) => [x.kind, x.layer, x.source?.line, x.refactor]),
    [['missing-norm', null, 3, { action: 'insert-norm', norm: 'layerNorm' }]],
  );
  assert.match(f[0].message, /stacks 8 weight layers/);
  assert.deepEqual(kinds(loop(6)), []);
  assert.deepEqual(kinds(loop(11, '\n    m.add(tf.layers.layerNormalization());')), []);
  const convs = `const m = tf.sequential();\nfor (let i = 1; i <= 8; i++) m.add(tf.layers.conv2d({ filters: 8, kernelSize: 3 }));`;
  assert.deepEqual(
    lintSource(convs, '/w/c.js').map((x) => x.refactor),
    [{ action: 'insert-norm', norm: 'batchNorm' }],
  );
});

test('a healthy file raises nothing and an editor parse can be reused', () => {
  const src = `import * as tf from '@tensorflow/tfjs';
export function createModel() {
  return tf.sequential({ layers: [
    tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 8, kernelSize: 3, activation: 'relu' }),
    tf.layers.batchNormalization(),
    tf.layers.flatten(),
    tf.layers.dense({ units: 32, activation: 'relu' }),
    tf.layers.layerNormalization(),
    tf.layers.dense({ units: 10, activation: 'softmax' }),
  ] });
}
export const normscope = { batchSize: 32 };`;
  assert.deepEqual(lintSource(src, '/w/ok.js'), []);
  const parsed = parseModelSource(CNN_BN(4), '/w/model.js');
  assert.equal(lintSource('', '/w/model.js', { parsed }).length, 2);
});
