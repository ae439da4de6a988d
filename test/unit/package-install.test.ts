// The npm tarball as a user gets it: `npm pack`, then a fresh project with its own @tensorflow/tfjs installs it
// as a dev dependency and runs `npx normscope check|lint` there, as in docs/cli.md "Install it in your project".
// Needs the npm registry (as `npm ci` does); takes about half a minute.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { EXAMPLES } from './engine-fixtures';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '..', '..', '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';

/** The environment without the npm_* variables of an enclosing `npm test`, which would steer the nested npm. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
}

async function exec(
  cmd: string,
  args: string[],
  cwd: string,
  timeout = 120_000,
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(cmd, args, { cwd, env: cleanEnv(), timeout, maxBuffer: 64 << 20 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number | string; stdout?: string; stderr?: string; message: string };
    if (typeof err.code !== 'number') throw new Error(`${cmd} ${args.join(' ')} in ${cwd}: ${err.message}\n${err.stderr ?? ''}`);
    return { code: err.code, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

// A TypeScript model in the style of the TensorFlow.js guides: ES imports, a typed factory, no NormScope spec.
const USER_MODEL = `import * as tf from '@tensorflow/tfjs';

export function createModel(): tf.Sequential {
  const model = tf.sequential();
  model.add(tf.layers.dense({ inputShape: [32], units: 64, activation: 'relu' }));
  model.add(tf.layers.batchNormalization());
  model.add(tf.layers.dense({ units: 3, activation: 'softmax' }));
  model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });
  return model;
}
`;

// A user's training script with the package's callback (CommonJS, as tfjs-examples' Node scripts are).
const TRAIN_WITH_CALLBACK = `const { normscopeCallback } = require('normscope');
const tf = require('@tensorflow/tfjs');
const model = tf.sequential();
model.add(tf.layers.dense({ inputShape: [4], units: 8, activation: 'relu' }));
model.add(tf.layers.dense({ units: 1 }));
model.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
model.fit(tf.randomNormal([32, 4]), tf.randomNormal([32, 1]), { epochs: 2, batchSize: 8, verbose: 0, callbacks: [normscopeCallback({ every: 2 })] });
`;

test(
  'npm pack → npm install -D in a fresh tfjs project → npx normscope check and lint work there, and normscopeCallback in its own fit writes a log report reads',
  { timeout: 600_000 },
  async (t) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'normscope-pack-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));

    // npm test has just built dist/; --ignore-scripts packs that build instead of rebuilding (prepack).
    const packed = await exec(npm, ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], ROOT);
    assert.equal(packed.code, 0, packed.stderr);
    const [info] = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
    const files = info.files.map((f) => f.path).sort();
    const engine = [
      'pyproject.toml',
      'normscope/__init__.py',
      'normscope/engine/__main__.py',
      'normscope/measuring/native.py',
      'normscope/measuring/fused_stats.c',
      'normscope/measuring/hooks.c',
      'normscope/measuring/hooks_moments.c',
      'normscope/measuring/hooks_layer.c',
      'normscope/measuring/hooks_params.c',
      'normscope/measuring/hooks_module.c',
      'normscope/measuring/meter.py',
    ].map((f) => `python/${f}`);
    for (const needed of [
      'dist/cli.js',
      'dist/worker.js',
      'dist/wasm/tfjs-backend-wasm.wasm',
      'dist/index.js',
      'dist/index.d.ts',
      ...engine,
      'python/normscope/runlog/writer.py',
      'package.json',
      'README.md',
      'LICENSE',
    ]) {
      assert.ok(files.includes(needed), `the tarball lacks ${needed}: ${files.join(', ')}`);
    }
    const extra = files.filter((f) => /^(src|test|webview|scripts)\/|\.map$|^dist\/test\//.test(f));
    assert.deepEqual(extra, [], 'the tarball carries sources, tests or source maps');

    const project = path.join(dir, 'my-model');
    mkdirSync(project);
    writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'my-model', version: '1.0.0', private: true }, null, 2));
    writeFileSync(path.join(project, 'model.ts'), USER_MODEL);
    copyFileSync(path.join(EXAMPLES, 'dead-relu.js'), path.join(project, 'dead-relu.js'));
    const install = await exec(
      npm,
      ['install', '--no-audit', '--no-fund', '-D', '@tensorflow/tfjs@4.22.0', path.join(dir, info.filename)],
      project,
      300_000,
    );
    assert.equal(install.code, 0, `npm install failed:\n${install.stderr}`);

    const cli = path.join(project, 'node_modules', 'normscope', 'dist', 'cli.js');
    assert.ok(statSync(cli).mode & 0o111, 'dist/cli.js is not executable in the installed package');

    const check = await exec(npx, ['--no-install', 'normscope', 'check', 'model.ts', '--steps', '5', '--json'], project);
    assert.equal(check.code, 0, check.stderr);
    const report = JSON.parse(check.stdout);
    assert.equal(report.steps, 5);
    assert.deepEqual(
      report.layers.map((l: { className: string }) => l.className),
      ['Dense', 'BatchNormalization', 'Dense'],
    );
    assert.equal(report.layers[1].source.line, 6, "layers point at the user file's lines");
    assert.ok(['wasm', 'tensorflow', 'cpu'].includes(report.backend), report.backend);

    const lint = await exec(npx, ['--no-install', 'normscope', 'lint', 'model.ts', '--json'], project);
    assert.equal(lint.code, 0, lint.stderr);
    const linted = JSON.parse(lint.stdout);
    assert.equal(linted.file, path.join(project, 'model.ts'));
    assert.deepEqual(linted.flags, [], 'BatchNorm at the default batch size 32 is fine');

    // What a CI job runs: a dead layer fails the step.
    const gate = await exec(
      npx,
      ['--no-install', 'normscope', 'check', 'dead-relu.js', '--steps', '5', '--fail-on', 'dead,exploding'],
      project,
    );
    assert.equal(gate.code, 1, `--fail-on dead did not fail on dead-relu.js:\n${gate.stdout}\n${gate.stderr}`);
    assert.match(gate.stdout, /dead/);

    // The library: the user's own model.fit with normscopeCallback writes a run log that `normscope report` reads.
    writeFileSync(path.join(project, 'train.js'), TRAIN_WITH_CALLBACK);
    const trained = await exec(process.execPath, ['train.js'], project);
    assert.equal(trained.code, 0, trained.stderr);
    const logged = await exec(npx, ['--no-install', 'normscope', 'report', '--json'], project);
    assert.equal(logged.code, 0, logged.stderr);
    const fromLog = JSON.parse(logged.stdout);
    assert.equal(fromLog.steps, 8);
    assert.deepEqual(fromLog.layers[0].sampledSteps, [0, 2, 4, 6]);
    assert.equal(fromLog.layers[0].source.file, path.join(project, 'train.js'));
  },
);
