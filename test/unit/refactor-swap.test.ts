/** Swapping one normalization for another: exact edits on fixtures, and every swap still builds and trains. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { parseModelSource } from '../../src/analysis/layerCalls';
import { normLayersSource } from '../../src/layers/emit';
import { applyEdits, NORM_KINDS, NORM_SPECS, RefactorError, swapNormalization, syntaxErrors } from '../../src/refactor';
import { buildAndTrain, FIXTURES, fixture, lineOf } from './refactor-harness';

test('BatchNorm → GroupNorm in a CommonJS sequential model: callee, dropped options, one require', () => {
  const text = fixture('seq-bn.js');
  const result = swapNormalization(text, 'seq-bn.js', { line: lineOf(text, 'tf.layers.batchNormalization({\n') }, 'groupNorm');
  const expected = text
    .replace(
      "const tf = require('@tensorflow/tfjs');\n",
      "const tf = require('@tensorflow/tfjs');\nconst { GroupNormalization } = require('./norm-layers');\n",
    )
    .replace(
      `      tf.layers.batchNormalization({
        axis: -1,
        momentum: 0.9, // slow-moving averages
        epsilon: 1e-3,
        gammaRegularizer: tf.regularizers.l2({ l2: 1e-4 }),
        movingVarianceInitializer: 'ones',
      }),`,
      `      // NormScope: BatchNormalization → GroupNormalization; dropped momentum: 0.9, movingVarianceInitializer: 'ones' (running averages exist only in BatchNorm; GroupNorm uses each sample's own statistics, the same in training and inference).
      new GroupNormalization({
        axis: -1,
        epsilon: 1e-3,
        gammaRegularizer: tf.regularizers.l2({ l2: 1e-4 }),
      }),`,
    );
  assert.equal(result.newText, expected);
  assert.equal(applyEdits(text, result.edits), result.newText);
  assert.deepEqual(result.extraFiles, [{ path: 'norm-layers.js', content: normLayersSource('cjs'), ifExists: 'keep' }]);
  assert.match(
    result.description,
    /Swapped BatchNormalization for GroupNormalization on line 8 \(dropped momentum, movingVarianceInitializer\)/,
  );
});

test('LayerNorm → RMSNorm in TypeScript: an ES import after the tf import, norm-layers.ts, beta options dropped', () => {
  const text = fixture('seq-add.ts');
  const result = swapNormalization(text, 'seq-add.ts', { line: lineOf(text, 'layerNormalization') }, 'rmsNorm');
  assert.ok(result.newText.includes("import * as tf from '@tensorflow/tfjs';\nimport { RMSNormalization } from './norm-layers';\n"));
  assert.ok(
    result.newText
      .includes(`  // NormScope: LayerNormalization → RMSNormalization; dropped center: true (RMSNorm does not re-center, so it has no beta).
  model.add(new RMSNormalization({ axis: -1, epsilon: 1e-5 }));`),
  );
  assert.equal(result.extraFiles[0].path, 'norm-layers.ts');
  assert.equal(result.extraFiles[0].content, normLayersSource('ts'));
});

test('a second swap reuses the norm-layers require and adds only the missing name', () => {
  const text = fixture('seq-bn.js');
  const first = swapNormalization(text, 'seq-bn.js', { line: lineOf(text, 'batchNormalization({\n') }, 'groupNorm');
  const second = swapNormalization(
    first.newText,
    'seq-bn.js',
    { line: lineOf(first.newText, 'batchNormalization({ momentum: 0.99 })') },
    'instanceNorm',
  );
  assert.equal(second.newText.match(/require\('\.\/norm-layers'\)/g)?.length, 1);
  assert.ok(second.newText.includes("const { GroupNormalization, InstanceNormalization } = require('./norm-layers');"));
  assert.ok(second.newText.includes('new InstanceNormalization()'), 'the emptied config is removed entirely');
  const third = swapNormalization(second.newText, 'seq-bn.js', { line: lineOf(second.newText, 'new GroupNormalization') }, 'instanceNorm');
  assert.ok(
    third.newText.includes("const { InstanceNormalization } = require('./norm-layers');"),
    'GroupNormalization, no longer used, leaves the require',
  );
  assert.equal(third.newText.match(/new InstanceNormalization/g)?.length, 2);
});

test('swapping away from the only NormScope layer renames or removes its import', () => {
  const text = fixture('conv-gn.ts');
  const line = lineOf(text, 'new GroupNormalization');
  const toInstance = swapNormalization(text, 'conv-gn.ts', { line }, 'instanceNorm');
  assert.ok(toInstance.newText.includes("import { InstanceNormalization } from './norm-layers';"));
  assert.ok(toInstance.newText.includes("new InstanceNormalization({ epsilon: 1e-4, scale: false, betaConstraint: 'nonNeg' })"));
  const toBatch = swapNormalization(text, 'conv-gn.ts', { line }, 'batchNorm');
  assert.ok(!/^import .*norm-layers/m.test(toBatch.newText), 'no unused import left behind');
  assert.ok(toBatch.newText.includes("tf.layers.batchNormalization({ epsilon: 1e-4, betaConstraint: 'nonNeg' })"));
  assert.match(
    toBatch.newText,
    /dropped groups: 2 \(only GroupNorm splits channels into groups\); scale: false \(tf\.layers\.batchNormalization cannot train without its gamma in tfjs 4\)\./,
  );
  assert.deepEqual(toBatch.extraFiles, []);
});

test('scale: false is not carried to tf BatchNorm/LayerNorm, which cannot train without gamma in tfjs 4', () => {
  const text = fixture('conv-gn.ts');
  const result = swapNormalization(text, 'conv-gn.ts', { line: lineOf(text, 'new GroupNormalization') }, 'layerNorm');
  assert.ok(
    result.newText
      .includes(`  // NormScope: GroupNormalization → LayerNormalization; dropped groups: 2 (only GroupNorm splits channels into groups); scale: false (tf.layers.layerNormalization cannot train without its gamma in tfjs 4); betaConstraint: 'nonNeg' (LayerNormalization takes no constraints).
  model.add(tf.layers.layerNormalization({ epsilon: 1e-4 }));`),
  );
  // NormScope's own layers do without gamma.
  const toRms = swapNormalization(text, 'conv-gn.ts', { line: lineOf(text, 'new GroupNormalization') }, 'rmsNorm');
  assert.ok(toRms.newText.includes('new RMSNormalization({ epsilon: 1e-4, scale: false })'));
});

test('spreads and non-literal configs are kept; only known options are dropped', () => {
  const text = `const tf = require('@tensorflow/tfjs');
const base = { epsilon: 1e-3 };
const cfg = { momentum: 0.9 };
const a = tf.layers.batchNormalization({ ...base, momentum: 0.9, center: true });
const b = tf.layers.batchNormalization(cfg);
`;
  const a = swapNormalization(text, 'm.js', { line: 4 }, 'layerNorm');
  assert.ok(a.newText.includes('const a = tf.layers.layerNormalization({ ...base, center: true });'));
  const b = swapNormalization(text, 'm.js', { line: 5 }, 'layerNorm');
  assert.ok(b.newText.includes('const b = tf.layers.layerNormalization(cfg);'));
});

test("the file's own tf namespace, quotes, semicolons and CRLF line endings are followed", () => {
  const text =
    'import * as tfjs from "@tensorflow/tfjs"\r\nimport { GroupNormalization } from "./norm-layers"\r\n\r\nexport const model = tfjs.sequential({ layers: [\r\n  new GroupNormalization({ groups: 4, inputShape: [8] }),\r\n] })\r\n';
  const toBatch = swapNormalization(text, 'm.mjs', { line: 5 }, 'batchNorm');
  assert.ok(toBatch.newText.includes('tfjs.layers.batchNormalization({ inputShape: [8] })'));
  assert.ok(!/[^\r]\n/.test(toBatch.newText), 'every line break stays CRLF');
  const plain = text
    .replace('import { GroupNormalization } from "./norm-layers"\r\n', '')
    .replace('new GroupNormalization({ groups: 4, inputShape: [8] })', 'tfjs.layers.layerNormalization({ inputShape: [8] })');
  const toRms = swapNormalization(plain, 'm.mjs', { line: 4 }, 'rmsNorm');
  assert.ok(
    toRms.newText.startsWith('import * as tfjs from "@tensorflow/tfjs"\r\nimport { RMSNormalization } from "./norm-layers.mjs"\r\n'),
  );
  assert.equal(toRms.extraFiles[0].path, 'norm-layers.mjs');
});

test('clear errors: no norm on the line, same kind, line outside the file', () => {
  const text = fixture('seq-bn.js');
  assert.throws(
    () => swapNormalization(text, 'seq-bn.js', { line: lineOf(text, 'tf.layers.flatten()') }, 'groupNorm'),
    (e: unknown) =>
      e instanceof RefactorError &&
      e.line === 15 &&
      /^seq-bn\.js:15: no normalization call to swap here \(only Flatten on line 15\)$/.test(e.message),
  );
  assert.throws(
    () => swapNormalization(text, 'seq-bn.js', { line: 2 }, 'groupNorm'),
    /seq-bn\.js:2: no normalization call to swap here \(no layer call on line 2\)/,
  );
  assert.throws(() => swapNormalization(text, 'seq-bn.js', { line: 8 }, 'batchNorm'), /already a BatchNormalization/);
  assert.throws(() => swapNormalization(text, 'seq-bn.js', { line: 999 }, 'layerNorm'), /line 999 is outside the file \(it has 24 lines\)/);
});

test('every norm call of every fixture swapped to every other norm parses, builds and trains', async () => {
  const files = readdirSync(FIXTURES).filter((f) => /\.(m?js|ts)$/.test(f));
  assert.ok(files.length >= 5);
  let swaps = 0;
  for (const file of files) {
    const text = fixture(file);
    for (const call of parseModelSource(text, file).calls.filter((c) => c.isNorm)) {
      for (const to of NORM_KINDS.filter((k) => NORM_SPECS[k].className !== call.className)) {
        const result = swapNormalization(text, file, { offset: call.start }, to);
        assert.deepEqual(syntaxErrors(result.newText, file), [], `${file}:${call.line} → ${to}`);
        const reparsed = parseModelSource(result.newText, file)
          .calls.filter((c) => c.isNorm)
          .map((c) => c.className);
        assert.ok(reparsed.includes(NORM_SPECS[to].className), `${file}:${call.line} → ${to} is found again by the analysis`);
        const trained = await buildAndTrain(file, result, 1).catch((e: Error) => assert.fail(`${file}:${call.line} → ${to}: ${e.stack}`));
        assert.ok(trained.classNames.includes(NORM_SPECS[to].className), `${file}:${call.line} → ${to} built ${trained.classNames}`);
        swaps++;
      }
    }
  }
  assert.ok(swaps >= 28, `${swaps} swaps`);
});
