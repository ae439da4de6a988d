/** Insert, remove, weight-norm wrap, regularizer removal and post-norm → pre-norm on fixtures; each result trains. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyRefactor, availableRefactors, RefactorError, type RefactorAction, type RefactorTarget } from '../../src/refactor';
import { buildAndTrain, fixture, lineOf } from './refactor-harness';

function refactor(file: string, target: RefactorTarget | string, action: RefactorAction) {
  const text = fixture(file);
  const at = typeof target === 'string' ? { line: lineOf(text, target) } : target;
  return { text, result: applyRefactor(text, file, at, action) };
}

test('insert a norm after a layer in a multi-line layers array, keeping one element per line', async () => {
  const { result } = refactor('seq-bn.js', 'units: 16', { action: 'insert-norm', norm: 'layerNorm' });
  assert.ok(
    result.newText.includes(`      tf.layers.dense({ units: 16, kernelRegularizer: tf.regularizers.l2({ l2: 1e-3 }) }),
      tf.layers.layerNormalization(),
      tf.layers.batchNormalization({ momentum: 0.99 }),`),
  );
  assert.deepEqual(result.extraFiles, []);
  const { classNames } = await buildAndTrain('seq-bn.js', result);
  assert.deepEqual(classNames.slice(3, 5), ['Dense', 'LayerNormalization']);
});

test('insert one of our norms in a one-line array of an ES module: inline element, import with .mjs', async () => {
  const text = fixture('esm-mlp.mjs');
  const result = applyRefactor(
    text,
    'esm-mlp.mjs',
    { offset: text.indexOf('tf.layers.dense({ units: 24') },
    { action: 'insert-norm', norm: 'groupNorm' },
  );
  assert.ok(
    result.newText.includes("tf.layers.dense({ units: 24, activation: 'tanh' }), new GroupNormalization(), tf.layers.dense({ units: 1 })"),
  );
  assert.ok(result.newText.includes("import * as tf from '@tensorflow/tfjs';\nimport { GroupNormalization } from './norm-layers.mjs';\n"));
  assert.equal(result.extraFiles[0].path, 'norm-layers.mjs');
  const { classNames } = await buildAndTrain('esm-mlp.mjs', result);
  assert.deepEqual(classNames, ['Dense', 'Dense', 'GroupNormalization', 'Dense']);
});

test('insert a norm after a model.add(...) layer and after a functional .apply(...)', async () => {
  const added = refactor('seq-add.ts', 'units: 16', { action: 'insert-norm', norm: 'batchNorm' }).result;
  assert.ok(
    added.newText.includes(
      "  model.add(tf.layers.dense({ units: 16, activation: 'relu' }));\n  model.add(tf.layers.batchNormalization());\n",
    ),
  );
  assert.deepEqual((await buildAndTrain('seq-add.ts', added)).classNames.slice(2, 4), ['Dense', 'BatchNormalization']);

  const applied = refactor('functional-postnorm.js', 'const h =', { action: 'insert-norm', norm: 'rmsNorm' }).result;
  assert.ok(applied.newText.includes("  const h = new RMSNormalization().apply(tf.layers.dense({ units, activation: 'relu' }).apply(x));"));
  assert.ok(applied.newText.includes("const { RMSNormalization } = require('./norm-layers');"));
  const { classNames } = await buildAndTrain('functional-postnorm.js', applied);
  assert.equal(classNames.filter((c) => c === 'RMSNormalization').length, 2, 'one per call of block()');
});

test('remove a norm from a layers array, a model.add of a bound layer, and functional chains', async () => {
  const fromArray = refactor('seq-bn.js', 'momentum: 0.99', { action: 'remove-norm' });
  assert.equal(fromArray.result.newText, fromArray.text.replace('      tf.layers.batchNormalization({ momentum: 0.99 }),\n', ''));
  assert.equal((await buildAndTrain('seq-bn.js', fromArray.result)).classNames.filter((c) => c === 'BatchNormalization').length, 1);

  const bound = refactor('seq-add.ts', 'const bn', { action: 'remove-norm' });
  assert.equal(
    bound.result.newText,
    bound.text.replace('  const bn = tf.layers.batchNormalization({ momentum: 0.95 });\n  model.add(bn);\n', ''),
  );
  await buildAndTrain('seq-add.ts', bound.result);

  const chained = refactor('functional-postnorm.js', 'layerNormalization', { action: 'remove-norm' });
  assert.ok(chained.result.newText.includes('  return tf.layers.add().apply([x, out]);\n'));
  assert.deepEqual(
    (await buildAndTrain('functional-postnorm.js', chained.result)).classNames.filter((c) => c.includes('Normalization')),
    [],
  );

  const boundApply = refactor('functional-postnorm.ts', 'norm.apply(sum)', { action: 'remove-norm' });
  assert.ok(boundApply.result.newText.includes('  return sum as tf.SymbolicTensor;\n'));
  assert.ok(!boundApply.result.newText.includes('const norm ='), 'the now unused layer variable goes too');
  await buildAndTrain('functional-postnorm.ts', boundApply.result);
});

test('wrap a Dense in WeightNormalization, including a first layer that carries the input shape', async () => {
  const { result } = refactor('seq-add.ts', 'units: 16', { action: 'weight-norm' });
  assert.ok(
    result.newText.includes("  model.add(new WeightNormalization({ layer: tf.layers.dense({ units: 16, activation: 'relu' }) }));"),
  );
  assert.ok(result.newText.includes("import { WeightNormalization } from './norm-layers';"));
  assert.ok((await buildAndTrain('seq-add.ts', result)).classNames.includes('WeightNormalization'));

  const first = refactor('esm-mlp.mjs', { offset: fixture('esm-mlp.mjs').indexOf('tf.layers.dense') }, { action: 'weight-norm' }).result;
  assert.deepEqual((await buildAndTrain('esm-mlp.mjs', first)).classNames, ['WeightNormalization', 'Dense', 'Dense']);
  const again = first.newText.indexOf('tf.layers.dense');
  assert.throws(
    () => applyRefactor(first.newText, 'esm-mlp.mjs', { offset: again }, { action: 'weight-norm' }),
    /already wrapped in WeightNormalization/,
  );
  assert.throws(
    () => refactor('seq-add.ts', 'const bn', { action: 'weight-norm' }),
    /no Dense or Conv layer to wrap in WeightNormalization here \(only BatchNormalization on line 9\)/,
  );
});

test('remove an L2 kernel regularizer before a norm, from the layer or from the norm after it', async () => {
  const fromLayer = refactor('seq-bn.js', 'units: 16', { action: 'remove-regularizer' }).result;
  const fromNorm = refactor('seq-bn.js', 'momentum: 0.99', { action: 'remove-regularizer' }).result;
  assert.equal(fromNorm.newText, fromLayer.newText);
  assert.ok(
    fromLayer.newText
      .includes(`      // NormScope: removed kernelRegularizer: tf.regularizers.l2({ l2: 1e-3 }). The normalization after this layer undoes any weight scale, so L2 here only shrinks the weights and raises the effective learning rate.
      tf.layers.dense({ units: 16 }),`),
  );
  await buildAndTrain('seq-bn.js', fromLayer);
  assert.throws(() => refactor('seq-add.ts', 'units: 16', { action: 'remove-regularizer' }), RefactorError);
});

test('post-norm → pre-norm with an inline LayerNorm and a branch built over two statements', async () => {
  const { text, result } = refactor('functional-postnorm.js', 'layerNormalization', { action: 'pre-norm' });
  assert.equal(
    result.newText,
    text.replace(
      `  const h = tf.layers.dense({ units, activation: 'relu' }).apply(x);
  const out = tf.layers.dense({ units }).apply(h);
  return tf.layers.layerNormalization({ epsilon: 1e-6 }).apply(tf.layers.add().apply([x, out]));`,
      `  // NormScope: pre-norm. LayerNormalization now normalizes the branch input and the skip path stays the identity; add one final LayerNormalization after the last block.
  const xNorm = tf.layers.layerNormalization({ epsilon: 1e-6 }).apply(x);
  const h = tf.layers.dense({ units, activation: 'relu' }).apply(xNorm);
  const out = tf.layers.dense({ units }).apply(h);
  return tf.layers.add().apply([x, out]);`,
    ),
  );
  await buildAndTrain('functional-postnorm.js', result);
});

test('post-norm → pre-norm in TypeScript with a bound LayerNorm, a sum variable and typed casts', async () => {
  const fromNorm = refactor('functional-postnorm.ts', 'norm.apply(sum)', { action: 'pre-norm' });
  const fromAdd = refactor('functional-postnorm.ts', 'tf.layers.add()', { action: 'pre-norm' });
  assert.equal(fromAdd.result.newText, fromNorm.result.newText);
  assert.ok(
    fromNorm.result.newText.includes(`  const ffn = tf.layers.dense({ units, activation: 'relu' });
  // NormScope: pre-norm. LayerNormalization now normalizes the branch input and the skip path stays the identity; add one final LayerNormalization after the last block.
  const xNorm = norm.apply(x) as tf.SymbolicTensor;
  const sum = tf.layers.add().apply([ffn.apply(xNorm) as tf.SymbolicTensor, x]) as tf.SymbolicTensor;
  return sum as tf.SymbolicTensor;`),
  );
  await buildAndTrain('functional-postnorm.ts', fromNorm.result);
});

test('pre-norm refuses norms that are not after a residual sum, saying what it expected', () => {
  assert.throws(
    () => refactor('seq-bn.js', 'momentum: 0.99', { action: 'pre-norm' }),
    /no normalization applied to a residual sum \(post-norm\) here/,
  );
  const text =
    "const tf = require('@tensorflow/tfjs');\nconst x = tf.input({ shape: [4] });\nconst y = tf.layers.layerNormalization().apply(x);\n";
  assert.throws(
    () => applyRefactor(text, 'm.js', { line: 3 }, { action: 'pre-norm' }),
    /m\.js:3: cannot convert to pre-norm: the LayerNormalization is not applied to the output of an add layer/,
  );
});

test('availableRefactors offers only what applies, with menu titles', () => {
  const titles = (file: string, needle: string) => {
    const text = fixture(file);
    return availableRefactors(text, file, { offset: text.indexOf(needle) }).map((o) => o.title);
  };
  assert.deepEqual(titles('seq-bn.js', 'tf.layers.batchNormalization({ m'), [
    'Swap to LayerNorm',
    'Swap to GroupNorm',
    'Swap to RMSNorm',
    'Swap to InstanceNorm',
    'Remove this normalization',
  ]);
  assert.deepEqual(titles('functional-postnorm.js', 'tf.layers.layerNormalization'), [
    'Swap to BatchNorm',
    'Swap to GroupNorm',
    'Swap to RMSNorm',
    'Swap to InstanceNorm',
    'Remove this normalization',
    'Convert residual block to pre-norm',
  ]);
  assert.deepEqual(titles('seq-bn.js', 'tf.layers.dense({ units: 16'), [
    'Insert LayerNorm after this layer',
    'Insert BatchNorm after this layer',
    'Insert GroupNorm after this layer',
    'Wrap in WeightNormalization',
    'Remove kernelRegularizer (L2 before a norm only changes the effective learning rate)',
  ]);
  assert.deepEqual(titles('seq-bn.js', 'module.exports'), []);
});
