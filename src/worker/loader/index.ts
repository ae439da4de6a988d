/**
 * Turns the file the user pointed at into a `tf.LayersModel`, its optional `normscope` training
 * spec and the source line of every layer. Accepted forms (README "What NormScope can check"):
 * `module.exports = model`, `export default model`, `export const model`, a factory (sync or async)
 * exported as `createModel`, `buildModel` or `default` (or as the module itself), any function of the
 * file that builds a model (`choice.model`, or the only one), called with arguments (./builderCall);
 * or a tfjs Layers `model.json`.
 */
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { SourceLocation } from '../../protocol';
import { UserCodeError } from '../../userCode/errors';
import { loadUserModule } from './bundle';
import { bindingsToExpose } from '../../analysis/builderFunctions';
import { callBuilder, describeCandidates, describeValue, lookupFunction, specArgs, staticBuilders, type ModelChoice } from './builderCall';
import { loadModelJson } from './modelJson';
import type { BundleSourceMap } from '../../userCode/sourceMap';
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
  const candidates: [string, unknown][] = [
    ['module.exports', exports],
    ['default', exports.default],
    ['model', exports.model],
    ...FACTORY_NAMES.filter((n) => n !== 'default').map((n): [string, unknown] => [n, exports[n]]),
  ];
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

export async function loadModel(file: string, choice: ModelChoice = {}): Promise<LoadedModel> {
  if (file.toLowerCase().endsWith('.json')) {
    const model = await loadModelJson(file);
    return { model, spec: undefined, sourceOf: () => null, sourceMap: null };
  }
  const builders = staticBuilders(file);
  const { exports, sourceMap, functions } = await loadUserModule(file, { expose: bindingsToExpose(builders, choice.model) });
  const spec = exports.normscope ?? (exports.default as Record<string, unknown> | undefined)?.normscope;
  const base = path.basename(file);
  const call = async (name: string, found: { fn: (...a: unknown[]) => unknown; owner: unknown }) => {
    const info = builders.find((b) => b.name === name) ?? (name === 'default' ? builders.find((b) => b.defaultExport) : undefined);
    return callBuilder(found, {
      name,
      file,
      sourceMap,
      info,
      args: specArgs(spec, name, file) ?? choice.args ?? [],
      others: choice.model ? [] : builders.filter((b) => b !== info),
    });
  };
  let model: tf.LayersModel;
  if (choice.model) {
    const found = lookupFunction(choice.model, exports, functions);
    if (!found) {
      throw new UserCodeError(
        'no-model',
        `${base} has no function '${choice.model}'. ` +
          (builders.length
            ? `Functions that build a model: ${describeCandidates(builders)}.`
            : 'No function in it builds a model with tf.sequential() or tf.model().'),
        { file, line: 1, column: 1 },
      );
    }
    model = await call(choice.model, found);
  } else {
    const exported = findModelExport(exports);
    const only = builders.length === 1 ? lookupFunction(builders[0].name, exports, functions) : null;
    if (exported?.model) model = exported.model;
    else if (exported?.factory)
      model = await call(exported.name === 'module.exports' ? 'default' : exported.name, {
        fn: exported.factory as (...a: unknown[]) => unknown,
        owner: exports,
      });
    else if (only) model = await call(builders[0].name, only);
    else if (builders.length > 1) {
      throw new UserCodeError(
        'ambiguous-model',
        `${base} has ${builders.length} functions that build a model: ${describeCandidates(builders)}. ` +
          `Choose one with --model <name> (CLI) or its own "▶ Check normalization" lens (editor).`,
        { file, line: builders[0].line, column: builders[0].column },
      );
    } else {
      throw new UserCodeError(
        'no-model',
        `${base} exports no tf.LayersModel and no model factory (${describeExports(exports)}), and no function in it ` +
          'builds one with tf.sequential() or tf.model(). Export the model (module.exports = model, export default model, export const model) ' +
          'or write a function that returns one.',
        { file, line: 1, column: 1 },
      );
    }
  }
  const sourceOf = (layer: tf.layers.Layer) => {
    const stack = creationStackOf(layer);
    return stack ? sourceMap.creationSite(stack) : null;
  };
  return { model, spec, sourceOf, sourceMap };
}
