/**
 * Calling a model-building function of the user's file: find it by name (exported or exposed by
 * ./exposeFunctions), choose its arguments (the spec's `args`, then the run's `args`, then the
 * function's own defaults), refuse to call it with required parameters missing, and check it returned a model.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { builderFunctionsIn, missingParams, signatureOf, type BuilderFunction } from '../../analysis/builderFunctions';
import { UserCodeError } from '../../userCode/errors';
import { explainUserError } from '../../userCode/explainErrors';
import type { BundleSourceMap } from '../../userCode/sourceMap';

/** Which function to check and with what; from RunOptions. */
export interface ModelChoice {
  model?: string;
  args?: unknown[];
}

/** Builder functions of the file as written (empty when it cannot be read or parsed). */
export function staticBuilders(file: string): BuilderFunction[] {
  try {
    return builderFunctionsIn(fs.readFileSync(file, 'utf8'), file);
  } catch {
    return [];
  }
}

/** `name` (dotted for methods) among the exports, else among the exposed bindings; with its `this`. */
export function lookupFunction(
  name: string,
  exports: Record<string, unknown>,
  exposed: Record<string, unknown>,
): { fn: (...a: unknown[]) => unknown; owner: unknown } | null {
  const roots: unknown[] = name === 'default' ? [exports.default, exports] : [exports, exports.default, exposed];
  for (const root of roots) {
    let owner: unknown = undefined;
    let value: unknown = root;
    for (const part of name === 'default' ? [] : name.split('.')) {
      owner = value;
      value = value && (typeof value === 'object' || typeof value === 'function') ? (value as Record<string, unknown>)[part] : undefined;
    }
    if (typeof value === 'function') return { fn: value as (...a: unknown[]) => unknown, owner };
  }
  return null;
}

/** `args` of the spec for `name`: `normscope: { name: { args } }` wins over `normscope: { args }`. */
export function specArgs(spec: unknown, name: string, file: string): unknown[] | undefined {
  if (!spec || typeof spec !== 'object') return undefined;
  const s = spec as Record<string, unknown>;
  const own = s[name] && typeof s[name] === 'object' ? (s[name] as Record<string, unknown>).args : undefined;
  const args = own ?? s.args;
  if (args !== undefined && !Array.isArray(args)) {
    throw new UserCodeError(
      'bad-spec',
      `normscope${own !== undefined ? `.${name}` : ''}.args must be an array of arguments for ${name}(), got ${typeof args}`,
      { file },
    );
  }
  return args as unknown[] | undefined;
}

/** A list of candidates for messages: `createModel(inputShape) (line 3), encoder(opts) (line 20)`. */
export function describeCandidates(builders: readonly BuilderFunction[]): string {
  return builders.map((b) => `${signatureOf(b)} (line ${b.line})`).join(', ');
}

export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined (is a `return` missing?)';
  if (value instanceof tf.Tensor) return `a tf.Tensor of shape [${value.shape.join(', ')}]`;
  if (value instanceof tf.layers.Layer)
    return `a layer (${value.getClassName()}), not a model: wrap it with tf.sequential({ layers: [...] }) or tf.model()`;
  if (Array.isArray(value)) return `an array of ${value.length} item(s)`;
  if (typeof value === 'object') {
    const keys = Object.keys(value as object);
    const models = keys.filter((k) => (value as Record<string, unknown>)[k] instanceof tf.LayersModel);
    return `an object with keys ${keys.slice(0, 6).join(', ') || '(none)'}${models.length ? ` (${models.join(', ')} holds a tf.LayersModel: return that, or a function that returns it)` : ''}`;
  }
  return `a ${typeof value}`;
}

export interface BuilderCall {
  name: string;
  file: string;
  info: BuilderFunction | undefined;
  args: unknown[];
  sourceMap: BundleSourceMap | null;
  /** Other builder functions of the file, named in the missing-arguments message when the choice was implicit. */
  others?: readonly BuilderFunction[];
}

/** Calls the builder after checking every required parameter has a value; returns the model. */
export async function callBuilder(found: { fn: (...a: unknown[]) => unknown; owner: unknown }, call: BuilderCall): Promise<tf.LayersModel> {
  const { name, file, info, args } = call;
  const shown = info ? signatureOf(info) : `${name}()`;
  const missing = info
    ? missingParams(info, args.length)
    : args.length < found.fn.length
      ? [`${found.fn.length - args.length} more argument(s)`]
      : [];
  const where = info ? { file, line: info.line, column: info.column } : { file, line: 1, column: 1 };
  if (missing.length) {
    throw new UserCodeError(
      'missing-args',
      `${shown} has no value for ${missing.join(', ')} (got ${args.length} argument${args.length === 1 ? '' : 's'}). ` +
        `Pass them with \`--args '[...]'\` (normscope check ${path.basename(file)} --model ${name} --args '[…]'), in the editor's input box, ` +
        `or in the file: export const normscope = { ${name.includes('.') ? `'${name}'` : name}: { args: [...] } }.` +
        (call.others?.length
          ? ` Other functions here that build a model (choose one with --model): ${describeCandidates(call.others)}.`
          : ''),
      where,
    );
  }
  let made: unknown;
  try {
    made = await found.fn.apply(found.owner, args);
  } catch (e) {
    throw explainUserError(
      e,
      'factory-threw',
      `${name}(${args.map((a) => JSON.stringify(a)).join(', ')}) threw`,
      call.sourceMap,
      file,
      where,
    );
  }
  if (!(made instanceof tf.LayersModel)) {
    throw new UserCodeError(
      'no-model',
      `${name}() returned ${describeValue(made)}, not a tf.LayersModel (build it with tf.sequential() or tf.model()).`,
      where,
    );
  }
  return made;
}
