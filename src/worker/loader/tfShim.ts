/**
 * The tf object the user's model code receives for every `@tensorflow/tfjs*` import: the worker's
 * own tf instance (one engine, one backend), with `tf.layers` wrapped so that each layer records
 * the stack of the call that created it. ./sourceMap turns those stacks into source lines.
 */
import * as tf from '@tensorflow/tfjs';

import { TF_GLOBAL } from '../../userCode/compile';
import { captureStack } from '../../userCode/sourceMap';

export { TF_GLOBAL };

/** Layer → stack trace captured when it was created. */
const creationStacks = new WeakMap<object, string>();

export function creationStackOf(layer: object): string | undefined {
  return creationStacks.get(layer);
}

function record(layer: unknown): void {
  if (layer && typeof layer === 'object' && !creationStacks.has(layer)) creationStacks.set(layer, captureStack());
}

type LayersNamespace = typeof tf.layers;

/** `tf.layers` with every factory wrapped and the base classes subclassed to record call sites. */
function wrapLayers(): LayersNamespace {
  const wrapped: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(tf.layers)) {
    if (name === 'Layer' || name === 'RNN' || name === 'RNNCell') {
      const Base = value as new (...args: never[]) => object;
      // Subclass so `class MyLayer extends tf.layers.Layer` records where `new MyLayer()` ran.
      // The name stays the same: tfjs serialization reads `className`, not the JS name.
      const Recording = {
        [name]: class extends Base {
          constructor(...args: never[]) {
            super(...args);
            record(this);
          }
        },
      }[name];
      wrapped[name] = Recording;
    } else if (typeof value === 'function') {
      const factory = value as (...args: unknown[]) => unknown;
      wrapped[name] = function recordingFactory(...args: unknown[]) {
        const layer = factory(...args);
        record(layer);
        return layer;
      };
    } else {
      wrapped[name] = value;
    }
  }
  return wrapped as unknown as LayersNamespace;
}

/** Called with every model the user's code builds (tf.sequential / tf.model); a script run lists them (../script). */
let modelListener: ((model: tf.LayersModel) => void) | null = null;

export function onModelCreated(listener: ((model: tf.LayersModel) => void) | null): void {
  modelListener = listener;
}

function recordingModelFactory<A extends unknown[]>(factory: (...args: A) => tf.LayersModel): (...args: A) => tf.LayersModel {
  return (...args: A) => {
    const model = factory(...args);
    modelListener?.(model);
    return model;
  };
}

let shim: typeof tf | undefined;

/** The object installed as `globalThis[TF_GLOBAL]`; built once per process. */
export function tfForUserCode(): typeof tf {
  if (!shim) {
    shim = {
      ...tf,
      layers: wrapLayers(),
      default: undefined,
      sequential: recordingModelFactory(tf.sequential),
      model: recordingModelFactory(tf.model),
    } as unknown as typeof tf;
    (shim as unknown as { default: unknown }).default = shim;
  }
  return shim;
}

export function installTfGlobal(): void {
  (globalThis as Record<string, unknown>)[TF_GLOBAL] = tfForUserCode();
}
