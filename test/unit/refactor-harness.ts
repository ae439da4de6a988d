/**
 * Test helpers for refactors: read fixtures, and build + train a refactored model file in-process.
 * The model and its extra files are transpiled to CommonJS and run with a `require` that hands out
 * this test's tf instance and the other virtual files, as a bundler would. (The engine's
 * `runTraining` does the same through esbuild; this keeps unit tests free of the worker.)
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import ts from 'typescript';
import type { RefactorResult } from '../../src/refactor';

export const FIXTURES = join(process.cwd(), 'test/fixtures/refactor');

export function fixture(name: string): string {
  return readFileSync(join(FIXTURES, name), 'utf8');
}

/** 1-based line of the first line containing `needle` (fails the test when absent). */
export function lineOf(text: string, needle: string, from = 0): number {
  const index = text.indexOf(needle, from);
  assert.ok(index >= 0, `fixture contains ${needle}`);
  return text.slice(0, index).split('\n').length;
}

/** Loads `entry` from virtual `files` (name → source) as CommonJS. */
export function loadVirtualModule(files: ReadonlyMap<string, string>, entry: string): Record<string, unknown> {
  const cache = new Map<string, { exports: Record<string, unknown> }>();
  const load = (name: string): Record<string, unknown> => {
    const cached = cache.get(name);
    if (cached) return cached.exports;
    const source = files.get(name);
    if (source === undefined) throw new Error(`virtual module ${name} not found (have ${[...files.keys()].join(', ')})`);
    const { outputText } = ts.transpileModule(source, {
      // As .js/.ts: TypeScript keeps .mjs/.mts files as ES modules whatever `module` says.
      fileName: name.replace(/\.[cm]([jt]s)$/, '.$1'),
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2020, esModuleInterop: true, allowJs: true },
    });
    const module = { exports: {} as Record<string, unknown> };
    cache.set(name, module);
    const requireFn = (specifier: string): unknown => {
      if (specifier === '@tensorflow/tfjs') return tf;
      if (specifier.startsWith('./')) {
        const base = specifier.slice(2).replace(/\.[cm]?[jt]s$/, '');
        const match = [...files.keys()].find((f) => f.replace(/\.[cm]?[jt]s$/, '') === base);
        if (match) return load(match);
      }
      throw new Error(`${name}: cannot require '${specifier}' in the test harness`);
    };
    new Function('require', 'module', 'exports', outputText)(requireFn, module, module.exports);
    return module.exports;
  };
  return load(entry);
}

export interface TrainedModel {
  classNames: string[];
  losses: number[];
}

/** Builds the model a refactored file defines (with the refactor's extra files beside it) and trains it a few steps. */
export async function buildAndTrain(
  fileName: string,
  result: Pick<RefactorResult, 'newText' | 'extraFiles'>,
  steps = 2,
): Promise<TrainedModel> {
  const files = new Map<string, string>([
    [fileName, result.newText],
    ...result.extraFiles.map((f): [string, string] => [f.path, f.content]),
  ]);
  const exports = loadVirtualModule(files, fileName);
  const make = (exports.createModel ?? exports.default) as (() => tf.LayersModel) | undefined;
  assert.equal(typeof make, 'function', `${fileName} exports createModel`);
  const model = make!();
  const spec = (exports.normscope ?? {}) as { batchSize?: number };
  const batch = spec.batchSize ?? 4;
  model.compile({ optimizer: tf.train.adam(0.01), loss: 'meanSquaredError' });
  const shapeOf = (s: (number | null)[]) => [batch, ...s.slice(1).map((d) => d ?? 1)];
  const xs = tf.randomNormal(shapeOf(model.inputs[0].shape), 0, 1, 'float32', 7);
  const ys = tf.randomNormal(shapeOf(model.outputs[0].shape), 0, 1, 'float32', 8);
  const history = await model.fit(xs, ys, { epochs: steps, batchSize: batch, verbose: 0 });
  const trained = { classNames: model.layers.map((l) => l.getClassName()), losses: history.history.loss as number[] };
  tf.dispose([xs, ys]);
  model.dispose();
  assert.ok(trained.losses.every(Number.isFinite), `${fileName} trains with finite loss: ${trained.losses}`);
  return trained;
}
