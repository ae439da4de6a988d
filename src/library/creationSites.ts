/**
 * Where the user's code created each tfjs layer, in the user's own process: the worker learns it by handing the
 * model file a tf whose factories record stacks (src/worker/loader/tfShim); here the model is built by the user's
 * own tf, so the stack is taken when the Layer constructor assigns the layer's `id` (a setter on Layer.prototype,
 * installed when `normscope` is imported — layers built before that have no line). The first frame outside
 * node_modules, Node and NormScope is the line; a custom layer's constructor frame gives way to the line that ran
 * `new MyLayer()`, as in the worker.
 */
import { fileURLToPath } from 'node:url';
import type * as tf from '@tensorflow/tfjs';
import type { SourceLocation } from '../protocol';
import { captureStack, parseStack } from '../userCode/sourceMap';

const stacks = new WeakMap<object, string>();
const installed = new WeakSet<object>();

/** Starts recording the creation stack of every layer `tfjs` builds from now on (once per tfjs copy). */
export function recordCreationSites(tfjs: typeof tf): void {
  const proto = tfjs.layers.Layer.prototype as object;
  if (installed.has(proto) || Object.getOwnPropertyDescriptor(proto, 'id')) return;
  installed.add(proto);
  Object.defineProperty(proto, 'id', {
    configurable: true,
    get: () => undefined,
    set(this: object, value: unknown) {
      stacks.set(this, captureStack());
      Object.defineProperty(this, 'id', { value, writable: true, enumerable: true, configurable: true });
    },
  });
}

function isUserFile(file: string): boolean {
  return !file.startsWith('node:') && !file.includes('/node_modules/') && !file.includes('\\node_modules\\') && file !== __filename;
}

/** The user's line that created `layer`, or null (built before recording began, or by library code only). */
export function creationSite(layer: object): SourceLocation | null {
  const stack = stacks.get(layer);
  if (!stack) return null;
  let constructorSite: SourceLocation | null = null;
  for (const frame of parseStack(stack)) {
    let file = frame.file;
    if (file.startsWith('file://')) file = fileURLToPath(file);
    if (!isUserFile(file) || !/^([A-Za-z]:)?[\\/]/.test(file)) continue;
    const site = { file, line: frame.line, column: frame.column };
    if (frame.functionName.startsWith('new ')) {
      constructorSite ??= site;
      continue;
    }
    return site;
  }
  return constructorSite;
}
