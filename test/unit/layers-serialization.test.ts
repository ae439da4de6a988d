/** Save/load through model.json, and the standalone norm-layers file the refactors write. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import ts from 'typescript';
import { registerNormLayers } from '../../src/layers';
import { NORM_LAYERS_MARKER, normLayersSource } from '../../src/layers/emit';

const { GroupNormalization, InstanceNormalization, RMSNormalization, WeightNormalization } = registerNormLayers(tf);

function buildModel(): tf.LayersModel {
  const input = tf.input({ shape: [4, 4, 2] });
  let x = new WeightNormalization({ layer: tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same' }) }).apply(
    input,
  ) as tf.SymbolicTensor;
  x = new GroupNormalization({ groups: 2, epsilon: 1e-4, gammaRegularizer: tf.regularizers.l2({ l2: 0.05 }), name: 'gn' }).apply(
    x,
  ) as tf.SymbolicTensor;
  x = new InstanceNormalization({ center: false, name: 'inorm' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.flatten().apply(x) as tf.SymbolicTensor;
  x = new RMSNormalization({ epsilon: 1e-5, name: 'rms' }).apply(x) as tf.SymbolicTensor;
  const output = new WeightNormalization({ layer: tf.layers.dense({ units: 3, activation: 'tanh' }), name: 'wn_dense' }).apply(
    x,
  ) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: output });
}

async function roundTrip(model: tf.LayersModel): Promise<{ loaded: tf.LayersModel; json: string }> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  assert.ok(artifacts, 'save handler was called');
  // Through JSON text, as a model.json file on disk would be.
  const json = JSON.stringify(artifacts.modelTopology);
  const loaded = await tf.loadLayersModel(tf.io.fromMemory({ ...artifacts, modelTopology: JSON.parse(json) }));
  return { loaded, json };
}

test('a model using every norm layer survives save and load through model.json', async () => {
  const model = buildModel();
  // Move the weights away from their initial values so that loading them is what makes outputs equal.
  model.compile({ optimizer: tf.train.sgd(0.1), loss: 'meanSquaredError' });
  await model.fit(tf.randomNormal([6, 4, 4, 2], 0, 1, 'float32', 1), tf.randomNormal([6, 3], 0, 1, 'float32', 2), {
    epochs: 2,
    verbose: 0,
  });

  const { loaded, json } = await roundTrip(model);
  for (const name of ['GroupNormalization', 'InstanceNormalization', 'RMSNormalization', 'WeightNormalization']) {
    assert.ok(json.includes(`"${name}"`), `model.json names ${name}`);
  }
  assert.deepEqual(
    loaded.layers.map((l) => l.getClassName()),
    model.layers.map((l) => l.getClassName()),
  );
  const x = tf.randomNormal([2, 4, 4, 2], 0, 1, 'float32', 3);
  const expected = Array.from((model.predict(x) as tf.Tensor).dataSync());
  const actual = Array.from((loaded.predict(x) as tf.Tensor).dataSync());
  actual.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-5, `output ${i}: ${v} vs ${expected[i]}`));

  const gn = loaded.getLayer('gn').getConfig();
  assert.equal(gn.groups, 2);
  assert.equal(gn.epsilon, 1e-4);
  assert.deepEqual(gn.gammaRegularizer, { className: 'L1L2', config: { l1: 0, l2: 0.05 } });
  assert.equal(loaded.getLayer('inorm').getConfig().center, false);
  assert.equal(loaded.getLayer('rms').getConfig().epsilon, 1e-5);
  const wrapped = loaded.getLayer('wn_dense').getConfig().layer as { className: string; config: { units: number; activation: string } };
  assert.equal(wrapped.className, 'Dense');
  assert.equal(wrapped.config.units, 3);
  assert.equal(wrapped.config.activation, 'tanh');
});

test('the loaded model keeps the gamma regularizer in its loss', async () => {
  const { loaded } = await roundTrip(buildModel());
  // An L2 penalty on gamma (initialised to ones) adds 0.05 * 4 channels to the regularization losses.
  const penalties = loaded.getLayer('gn').losses.map((f) => (f() as tf.Scalar).dataSync()[0]);
  assert.equal(penalties.length, 1);
  assert.ok(Math.abs(penalties[0] - 0.2) < 1e-6, `penalty ${penalties[0]}`);
});

/** A throwaway project dir whose node_modules/@tensorflow/tfjs is the repo's, like a user's project. */
function userProject(): string {
  const repoRequire = createRequire(join(process.cwd(), 'package.json'));
  const tfjsDir = dirname(repoRequire.resolve('@tensorflow/tfjs/package.json'));
  const dir = mkdtempSync(join(tmpdir(), 'normscope-layers-'));
  mkdirSync(join(dir, 'node_modules', '@tensorflow'), { recursive: true });
  symlinkSync(tfjsDir, join(dir, 'node_modules', '@tensorflow', 'tfjs'), 'dir');
  return dir;
}

// Runs in its own process: two tf copies in one process share tfjs-core's global engine.
const USER_MODEL = `
const tf = require('@tensorflow/tfjs');
const { GroupNormalization, InstanceNormalization, RMSNormalization, WeightNormalization } = require('./norm-layers');
(async () => {
  const model = tf.sequential({ layers: [
    new WeightNormalization({ layer: tf.layers.dense({ units: 4, inputShape: [2] }) }),
    new GroupNormalization({ groups: 2 }), new InstanceNormalization(), new RMSNormalization(),
    tf.layers.dense({ units: 1 }),
  ] });
  model.compile({ optimizer: 'adam', loss: 'meanSquaredError' });
  const history = await model.fit(tf.tensor2d([[1, 2], [3, -1], [0, 1], [2, 2]]), tf.zeros([4, 1]), { epochs: 3, verbose: 0 });
  const restored = await tf.models.modelFromJSON(model.toJSON(null, false));
  console.log(JSON.stringify({ loss: history.history.loss, classes: restored.layers.map((l) => l.getClassName()) }));
})().catch((e) => { console.error(e); process.exit(1); });
`;

test('the emitted CommonJS norm-layers.js works when required from a project without NormScope', () => {
  const dir = userProject();
  try {
    writeFileSync(join(dir, 'norm-layers.js'), normLayersSource('cjs'));
    writeFileSync(join(dir, 'model.js'), USER_MODEL);
    const run = spawnSync(process.execPath, ['model.js'], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
    assert.equal(run.status, 0, run.stderr);
    const result = JSON.parse(run.stdout.trim().split('\n').pop()!) as { loss: number[]; classes: string[] };
    assert.equal(result.loss.length, 3);
    assert.ok(result.loss.every(Number.isFinite), `losses ${result.loss}`);
    assert.deepEqual(result.classes, ['WeightNormalization', 'GroupNormalization', 'InstanceNormalization', 'RMSNormalization', 'Dense']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('every emitted format starts with the marker and is the library source', () => {
  const tsText = normLayersSource('ts');
  for (const format of ['ts', 'esm', 'cjs'] as const) {
    const text = normLayersSource(format);
    assert.ok(text.startsWith(NORM_LAYERS_MARKER), `${format} starts with the marker`);
    assert.match(text, /function defineNormLayers\(tf/);
    assert.match(text, /registerClass/);
  }
  assert.match(normLayersSource('cjs'), /require\("@tensorflow\/tfjs"\)/);
  assert.match(normLayersSource('esm'), /^import \* as tf from '@tensorflow\/tfjs';$/m);
  assert.match(
    tsText,
    /export const \{ GroupNormalization, InstanceNormalization, RMSNormalization, WeightNormalization \} = defineNormLayers\(tf\);/,
  );
  // The TypeScript variant is valid TypeScript (syntax; types are checked by tsc on src/layers).
  const parsed = ts.createSourceFile('norm-layers.ts', tsText, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS) as ts.SourceFile & {
    parseDiagnostics: ts.Diagnostic[];
  };
  assert.deepEqual(
    parsed.parseDiagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')),
    [],
  );
});

test('the TypeScript norm-layers file type-checks with declaration emit in a user project (strict, declaration: true)', () => {
  // Classes local to a function leak tfjs's protected members into .d.ts unless their types are spelled out.
  const dir = mkdtempSync(join(tmpdir(), 'normscope-dts-'));
  try {
    const file = join(dir, 'norm-layers.ts');
    writeFileSync(file, normLayersSource('ts'));
    const req = createRequire(__filename);
    const tfTypes = dirname(req.resolve('@tensorflow/tfjs/package.json'));
    // The compiler as a user runs it (the bundled API here cannot find TypeScript's lib files), via a tsconfig.
    const config = {
      compilerOptions: {
        strict: true,
        declaration: true,
        emitDeclarationOnly: true,
        outDir: 'out',
        skipLibCheck: true,
        target: 'ES2020',
        moduleResolution: 'node',
        baseUrl: '.',
        paths: { '@tensorflow/tfjs': [tfTypes] },
      },
      files: ['norm-layers.ts'],
    };
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(config));
    const tsc = spawnSync(process.execPath, [req.resolve('typescript/bin/tsc'), '-p', dir], { encoding: 'utf8' });
    assert.equal(tsc.status, 0, tsc.stdout + tsc.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
