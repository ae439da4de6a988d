// normscopeCallback (the npm package's library, dist/index.js) in a user's own Node process: a public model
// (tensorflow/tfjs-examples abalone-node, unmodified) trained with fitDataset and fit writes a run log that
// `normscope report` reads, on the lines of its model.js; and the callback does not change what fit computes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { reportCommand } from '../../src/cli/report';
import type { RunReportJson } from '../../src/protocol';
import { readRunLog } from '../../src/runlog/read';
import { capturingIO } from './capture';
import { WORKER } from './engine-fixtures';

const ROOT = path.resolve(path.dirname(WORKER), '..');
const PUBLIC = path.join(ROOT, 'test', 'fixtures', 'public', 'tfjs-examples');

/**
 * Runs `code` as a user's script in a project whose node_modules/normscope is this checkout (dist/index.js). Its
 * `@tensorflow/tfjs-node` (which cannot install here) is a stand-in that re-exports `@tensorflow/tfjs`, as tfjs-node
 * itself does with its backend added.
 */
async function userScript(t: { after(fn: () => void): void }, code: string): Promise<{ dir: string; stdout: string }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'normscope-tfjs-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  fs.mkdirSync(path.join(dir, 'node_modules', '@tensorflow', 'tfjs-node'), { recursive: true });
  fs.symlinkSync(ROOT, path.join(dir, 'node_modules', 'normscope'), 'dir');
  fs.writeFileSync(
    path.join(dir, 'node_modules', '@tensorflow', 'tfjs-node', 'index.js'),
    "module.exports = require('@tensorflow/tfjs');\n",
  );
  fs.writeFileSync(path.join(dir, 'package.json'), '{"name":"user-project","private":true}');
  fs.writeFileSync(path.join(dir, 'train.js'), code);
  // The fixtures' own `require('@tensorflow/tfjs-node')` resolves from their folder: NODE_PATH points it at the stand-in.
  const nodePath = [path.join(dir, 'node_modules'), path.join(ROOT, 'node_modules')].join(path.delimiter);
  const stdout = await new Promise<string>((resolve, reject) =>
    execFile(process.execPath, ['train.js'], { cwd: dir, timeout: 300_000, env: { ...process.env, NODE_PATH: nodePath } }, (e, out, err) =>
      e ? reject(new Error(`${e.message}\n${err}`)) : resolve(out),
    ),
  );
  return { dir, stdout };
}

test('fitDataset of the tfjs-examples abalone regressor with normscopeCallback writes a log that normscope report reads', async (t) => {
  const example = path.join(PUBLIC, 'abalone-node');
  const { dir } = await userScript(
    t,
    `const { normscopeCallback } = require('normscope'); // first: layers built from now on record their lines
const createModel = require(${JSON.stringify(path.join(example, 'model.js'))});
const createDataset = require(${JSON.stringify(path.join(example, 'data.js'))});
(async () => {
  const data = await createDataset(${JSON.stringify(`file://${path.join(example, 'abalone.csv')}`)});
  const model = createModel([data.numOfColumns]);
  const callback = normscopeCallback({ every: 3, dir: 'run', projectRoot: ${JSON.stringify(PUBLIC)} });
  // As abalone-node/train.js trains, shorter: batches of 100, 12 of them per epoch.
  await model.fitDataset(data.dataset.batch(100).take(12), { epochs: 2, callbacks: [callback] });
  // The same callback in a fit(), after a plain-object callback (tfjs then wraps it): the same run goes on.
  const { xs, ys } = await data.dataset.batch(60).take(1).toArray().then(([b]) => ({ xs: b.xs, ys: b.ys }));
  await model.fit(xs, ys, { epochs: 1, batchSize: 20, callbacks: [{ onEpochEnd: async () => {} }, callback] });
})();
`,
  );
  const log = readRunLog(path.join(dir, 'run'));
  assert.equal(log.meta.engine, 'tfjs');
  assert.equal(log.meta.every, 3);
  assert.equal(log.meta.batchSize, 100);
  assert.equal(log.end?.reason, 'closed', 'the process exited after training: a normal end');
  assert.deepEqual(
    log.samples.map((s) => s.step),
    [0, 3, 6, 9, 12, 15, 18, 21, 24],
    '27 batches (2 epochs of 12, then 3), every third measured',
  );
  assert.deepEqual(
    log.layers.map((l) => [l.className, l.activation, l.source && `${l.source.file}:${l.source.line}`]),
    [
      ['Dense', 'sigmoid', 'abalone-node/model.js:28'],
      ['Dense', 'sigmoid', 'abalone-node/model.js:33'],
      ['Dense', 'linear', 'abalone-node/model.js:37'],
    ],
    'each layer on the line of model.js that created it, relative to the project root',
  );

  const { io, printed } = capturingIO();
  const code = await reportCommand([path.join(dir, 'run'), '--json', '--root', PUBLIC], io);
  assert.equal(code, 0, printed.stderr);
  const report = JSON.parse(printed.stdout) as RunReportJson;
  assert.equal(report.steps, 27);
  assert.ok(
    report.loss.every((l) => typeof l === 'number' && l > 0),
    'every batch has its loss',
  );
  assert.equal(report.layers[0].source?.file, path.join(example, 'model.js'));
  assert.deepEqual(report.layers[0].sampledSteps, [0, 3, 6, 9, 12, 15, 18, 21, 24]);
  assert.ok(
    (report.layers[0].stats.gradNorm ?? []).every((g) => typeof g === 'number' && g > 0),
    'measured gradients',
  );
  assert.ok(
    (report.layers[1].stats.saturatedFraction ?? []).every((v) => typeof v === 'number'),
    'sigmoid saturation measured',
  );
});

test('normscopeCallback does not change what fit computes: the same losses, bit for bit, with and without it', async (t) => {
  const { stdout } = await userScript(
    t,
    `const { normscopeCallback } = require('normscope');
const tf = require('@tensorflow/tfjs');
function build() {
  const model = tf.sequential();
  model.add(tf.layers.dense({ inputShape: [6], units: 12, activation: 'relu' }));
  model.add(tf.layers.batchNormalization());
  model.add(tf.layers.dense({ units: 1 }));
  model.compile({ optimizer: tf.train.adam(0.01), loss: 'meanSquaredError' });
  return model;
}
(async () => {
  const xs = tf.randomNormal([64, 6], 0, 1, 'float32', 3);
  const ys = tf.randomNormal([64, 1], 0, 1, 'float32', 4);
  const a = build();
  const b = build();
  b.setWeights(a.getWeights());
  const losses = async (model, callbacks) => {
    const out = [];
    await model.fit(xs, ys, { epochs: 3, batchSize: 16, shuffle: false, verbose: 0, callbacks: [...callbacks, { onBatchEnd: async (_, logs) => out.push(logs.loss) }] });
    return out;
  };
  const watched = await losses(a, [normscopeCallback({ every: 1, dir: 'run' })]);
  const plain = await losses(b, []);
  console.log(JSON.stringify({ watched, plain }));
})();
`,
  );
  const { watched, plain } = JSON.parse(stdout.trim().split('\n').pop()!) as { watched: number[]; plain: number[] };
  assert.equal(watched.length, 12);
  assert.deepEqual(watched, plain);
});
