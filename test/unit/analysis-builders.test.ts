// Builder functions (any name, exported or not, transitive) with their parameters, and statically known call sites.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { builderFunctionsIn, missingParams, signatureOf } from '../../src/analysis/builderFunctions';
import { findCallSites } from '../../src/analysis/callSites';

const DQN = `import * as tf from '@tensorflow/tfjs';

export function createDeepQNetwork(h, w, numActions) {
  const model = tf.sequential();
  model.add(tf.layers.conv2d({ filters: 128, kernelSize: 3, inputShape: [h, w, 2] }));
  return model;
}

const helper = (x) => x * 2;

function wrapped(units = 32, ...rest) {
  return createDeepQNetwork(9, 9, units);
}

const encoder = function (opts) { return tf.model({ inputs: opts.input, outputs: opts.output }); };

const models = {
  dense(units) { return tf.sequential({ layers: [tf.layers.dense({ units, inputShape: [4] })] }); },
  twice() { return this.dense(2); },
  notAModel() { return 1; },
};

async function main() {
  const model = createDeepQNetwork(9, 9, 4);
  await model.fit(xs, ys);
}

async function train() {
  const model = await wrapped(4);
  const history = await model.fit(xs, ys);
  return history;
}

const count = () => createDeepQNetwork(1, 1, 1).countParams();

function pick(kind) {
  let model;
  if (kind === 'a') model = encoder({});
  else model = wrapped();
  return model;
}
`;

test("finds every builder: declarations, arrows, functions returning a builder's model, object methods; not helpers, not functions that only use a model", () => {
  const found = builderFunctionsIn(DQN, 'dqn.js');
  assert.deepEqual(
    found.map((f) => f.name),
    ['createDeepQNetwork', 'wrapped', 'encoder', 'models.dense', 'models.twice', 'pick'],
  );
  const dqn = found[0];
  assert.equal(dqn.line, 3);
  assert.equal(dqn.exported, true);
  assert.equal(dqn.required, 3);
  assert.equal(signatureOf(dqn), 'createDeepQNetwork(h, w, numActions)');
  assert.deepEqual(missingParams(dqn, 1), ['w', 'numActions']);
  const wrapped = found[1];
  assert.equal(wrapped.exported, false);
  assert.equal(wrapped.required, 0);
  assert.equal(signatureOf(wrapped), 'wrapped(units = 32, ...rest)');
  assert.equal(found[2].line, 15);
  assert.equal(found[3].line, 18);
});

test('TypeScript optional parameters, destructuring, CommonJS exports and destructured tf builders', () => {
  const src = `const { sequential, layers } = require('@tensorflow/tfjs-node');
exports.buildModel = function (modelType: string, numTimeSteps?: number) { return sequential(); };
module.exports.encoder = ({ units, depth }) => sequential();
function unrelated() { return 3; }
`;
  const found = builderFunctionsIn(src, 'm.ts');
  assert.deepEqual(
    found.map((f) => [f.name, f.required, f.exported]),
    [
      ['buildModel', 1, true],
      ['encoder', 1, true],
    ],
  );
  assert.equal(signatureOf(found[0]), 'buildModel(modelType, numTimeSteps?)');
  assert.equal(found[1].params[0].name, '{ units, depth }');
});

test('a module-level model is not a builder function; export default function is', () => {
  assert.deepEqual(builderFunctionsIn(`import * as tf from '@tensorflow/tfjs';\nexport const model = tf.sequential();\n`, 'a.js'), []);
  const found = builderFunctionsIn(
    `import * as tf from '@tensorflow/tfjs';\nexport default function (n) { return tf.sequential(); }\n`,
    'b.js',
  );
  assert.deepEqual(
    found.map((f) => [f.name, f.required]),
    [['default', 1]],
  );
});

test('call sites: literals and constants (a call with a parameter or process.argv is skipped), same file and importing files (ESM, require, namespace)', () => {
  const target = '/ws/src/model.js';
  const files = [
    { file: target, text: `${DQN}\nconst SIZE = 9;\nconst net = createDeepQNetwork(SIZE, SIZE, 4);\n` },
    {
      file: '/ws/src/train.js',
      text: `import { createDeepQNetwork as make } from './model';\nconst SHAPE = { h: 5, w: 6 };\nmake(SHAPE.h, SHAPE.w * 2, -1);\nmake(process.argv[2], 1, 1);\n`,
    },
    { file: '/ws/scripts/run.js', text: `const m = require('../src/model.js');\nm.createDeepQNetwork(1, 2, [3, 'x']);\n` },
    { file: '/ws/scripts/other.js', text: `const m = require('./model');\nm.createDeepQNetwork(7, 7, 7);\n` },
  ];
  const sites = findCallSites(files, target, 'createDeepQNetwork');
  assert.deepEqual(
    sites.map((s) => [s.file, s.line, s.args]),
    [
      [target, 24, [9, 9, 4]],
      [target, 34, [1, 1, 1]],
      [target, 44, [9, 9, 4]],
      ['/ws/src/train.js', 3, [5, 12, -1]],
      ['/ws/scripts/run.js', 2, [1, 2, [3, 'x']]],
    ],
  );
  assert.equal(sites[3].text, 'make(SHAPE.h, SHAPE.w * 2, -1)');
});

test('typed arguments: JSON, single quotes, unquoted keys; code is refused with the argument named', async () => {
  const { parseArgumentArray, parseArgumentList, formatArgumentList } = await import('../../src/analysis/argumentText');
  assert.deepEqual(parseArgumentArray('[[28, 28, 1], 10]'), { ok: true, args: [[28, 28, 1], 10] });
  assert.deepEqual(parseArgumentArray(`[{units: 4, act: 'relu',}, -1e-3]`), { ok: true, args: [{ units: 4, act: 'relu' }, -1e-3] });
  assert.deepEqual(parseArgumentList('[28, 28, 1]'), { ok: true, args: [[28, 28, 1]] });
  assert.deepEqual(parseArgumentList(''), { ok: true, args: [] });
  assert.equal(formatArgumentList([[28, 28, 1], 'a,b', { b: 1, 'x-y': [null] }]), '[28, 28, 1], "a,b", { b: 1, "x-y": [null] }');
  const code = parseArgumentList('9, Math.random()');
  assert.equal(code.ok, false);
  assert.match(!code.ok ? code.error : '', /argument 2 \(Math\.random\(\)\) is not a literal value/);
  const notArray = parseArgumentArray('9');
  assert.match(!notArray.ok ? notArray.error : '', /expected an array of arguments/);
  const broken = parseArgumentArray('[1, 2');
  assert.match(!broken.ok ? broken.error : '', /cannot read/);
});

test('the spec gives arguments: general args, per function, or not at all', async () => {
  const { specGivesArgs } = await import('../../src/analysis/specArgs');
  const { parseSource } = await import('../../src/analysis/builderFunctions');
  const perFunction = parseSource(`export const normscope = { createDeepQNetwork: { args: [9, 9, 4] }, steps: 10 };`, 'a.js');
  assert.equal(specGivesArgs(perFunction, 'createDeepQNetwork'), true);
  assert.equal(specGivesArgs(perFunction, 'other'), false);
  assert.equal(specGivesArgs(parseSource(`module.exports = { createModel, normscope: { args: [[4]] } };`, 'b.js'), 'createModel'), true);
  assert.equal(specGivesArgs(parseSource(`exports.normscope = { batchSize: 8 };`, 'c.js'), 'createModel'), false);
});

test('functions exported apart from their declaration count as exported', () => {
  const src = `const tf = require('@tensorflow/tfjs');\nfunction createModel() { return tf.sequential(); }\nfunction hidden() { return tf.sequential(); }\nmodule.exports = { createModel };\n`;
  assert.deepEqual(
    builderFunctionsIn(src, 'a.js').map((f) => [f.name, f.exported]),
    [
      ['createModel', true],
      ['hidden', false],
    ],
  );
  const esm = `import * as tf from '@tensorflow/tfjs';\nfunction make() { return tf.sequential(); }\nexport { make as createModel };\n`;
  assert.deepEqual(
    builderFunctionsIn(esm, 'b.js').map((f) => [f.name, f.exported]),
    [['make', true]],
  );
});
