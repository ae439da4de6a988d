/**
 * Turns the file the user pointed at into a `tf.LayersModel`, its optional `normscope` training
 * spec and the source line of every layer. Accepted forms (README "Model files"):
 * `module.exports = model`, `export default model`, `export const model`, or a zero-argument
 * factory (sync or async) exported as `createModel`, `buildModel` or `default` (or as the module
 * itself); or a tfjs Layers `model.json`.
 */
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { SourceLocation } from '../../protocol';
import { UserCodeError } from '../errors';
import { loadUserModule } from './bundle';
import { loadModelJson } from './modelJson';
import type { BundleSourceMap } from './sourceMap';
import { creationStackOf } from './tfShim';

export interface LoadedModel {
  model: tf.LayersModel;
  /** The module's `normscope` export, unvalidated (see ../training/spec). */
  spec: unknown;
  /** Where the user's code created `layer`; null for model.json layers. */
  sourceOf(layer: tf.layers.Layer): SourceLocation | null;
  /** Maps an error thrown by user code (in the factory, a data function, a layer) to its line. */
  sourceMap: BundleSourceMap | null;
}

const FACTORY_NAMES = ['createModel', 'buildModel', 'default'] as const;

export function isLayersModel(value: unknown): value is tf.LayersModel {
  return value instanceof tf.LayersModel;
}

/** The model, or the factory that makes it, among a module's exports. */
function findModelExport(exports: Record<string, unknown>): { model?: tf.LayersModel; factory?: () => unknown; name: string } | null {
  if (exports === null || (typeof exports !== 'object' && typeof exports !== 'function')) return null;
  const candidates: [string, unknown][] = [['module.exports', exports], ['default', exports.default], ['model', exports.model],
    ...FACTORY_NAMES.filter((n) => n !== 'default').map((n): [string, unknown] => [n, exports[n]])];
  for (const [name, value] of candidates) {
    if (isLayersModel(value)) return { model: value, name };
  }
  for (const [name, value] of candidates) {
    if (typeof value === 'function' && !isClass(value)) return { factory: value as () => unknown, name };
  }
  return null;
}

function isClass(fn: unknown): boolean {
  return typeof fn === 'function' && /^class[\s{]/.test(Function.prototype.toString.call(fn));
}

function describeExports(exports: Record<string, unknown>): string {
  // `module.exports = 42` (or a string, a boolean...): say what it is, not "it exports nothing".
  if (exports === null || (typeof exports !== 'object' && typeof exports !== 'function')) return `it exports ${describeValue(exports)}`;
  const names = Object.keys(exports).filter((k) => k !== '__esModule');
  return names.length ? `it exports: ${names.join(', ')}` : 'it exports nothing';
}

export async function loadModel(file: string): Promise<LoadedModel> {
  if (file.toLowerCase().endsWith('.json')) {
    const model = await loadModelJson(file);
    return { model, spec: undefined, sourceOf: () => null, sourceMap: null };
  }
  const { exports, sourceMap } = await loadUserModule(file);
  const found = findModelExport(exports);
  const base = path.basename(file);
  if (!found) {
    throw new UserCodeError('no-model', `${base} exports no tf.LayersModel and no model factory (${describeExports(exports)}). `
      + 'Export the model (module.exports = model, export default model, export const model) or a zero-argument '
      + 'function createModel/buildModel/default that returns one.', { file, line: 1, column: 1 });
  }
  let model = found.model;
  if (!model) {
    let made: unknown;
    try {
      made = await found.factory!();
    } catch (e) {
      throw UserCodeError.from(e, 'factory-threw', `${found.name}() threw`, sourceMap, file, { file, line: 1, column: 1 });
    }
    if (!isLayersModel(made)) {
      throw new UserCodeError('no-model', `${found.name}() returned ${describeValue(made)}, not a tf.LayersModel (build it with tf.sequential() or tf.model()).`, { file, line: 1, column: 1 });
    }
    model = made;
  }
  const spec = exports.normscope ?? (exports.default as Record<string, unknown> | undefined)?.normscope;
  const sourceOf = (layer: tf.layers.Layer) => {
    const stack = creationStackOf(layer);
    return stack ? sourceMap.creationSite(stack) : null;
  };
  return { model, spec, sourceOf, sourceMap };
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return `an object (${Object.keys(value as object).slice(0, 5).join(', ') || 'no keys'})`;
  return typeof value === 'undefined' ? 'undefined' : `a ${typeof value}`;
}
