/**
 * The layer table of a script run: the leaf layers of every model the script built, in creation
 * order (a model used as a layer, like a GAN's generator inside the combined model, is opened up),
 * with names unique across models, and the variables they own.
 */
import * as tf from '@tensorflow/tfjs';

/** Leaf layers of a model in order, skipping those already `seen`. */
export function leafLayers(model: tf.LayersModel, into: tf.layers.Layer[] = [], seen = new Set<tf.layers.Layer>()): tf.layers.Layer[] {
  for (const layer of model.layers) {
    if (layer instanceof tf.LayersModel) leafLayers(layer, into, seen);
    else if (!seen.has(layer) && layer.getClassName() !== 'InputLayer') {
      seen.add(layer);
      into.push(layer);
    }
  }
  return into;
}

/** Every leaf layer of `models`, once, and the name each goes by in the report. */
export function layerTable(models: tf.LayersModel[]): {
  layers: tf.layers.Layer[];
  owner: Map<tf.layers.Layer, string>;
  nameOf(layer: tf.layers.Layer): string;
} {
  const layers: tf.layers.Layer[] = [];
  const seen = new Set<tf.layers.Layer>();
  const owner = new Map<tf.layers.Layer, string>();
  for (const model of models) {
    const before = layers.length;
    leafLayers(model, layers, seen);
    for (const layer of layers.slice(before)) owner.set(layer, model.name);
  }
  const counts = new Map<string, number>();
  for (const layer of layers) counts.set(layer.name, (counts.get(layer.name) ?? 0) + 1);
  // Same name in two models (both have a 'dense1'): qualify with the model's name.
  const nameOf = (layer: tf.layers.Layer) => (counts.get(layer.name)! > 1 ? `${owner.get(layer)}/${layer.name}` : layer.name);
  return { layers, owner, nameOf };
}

/** The engine variables the models' layers train. */
export function layerVariables(models: tf.LayersModel[]): tf.Variable[] {
  const { layers } = layerTable(models);
  return layers.flatMap((l) => l.trainableWeights.map((w) => w.read() as tf.Variable));
}

/** Every trainable variable the engine knows, which is what `minimize` without a varList updates. */
export function trainableVariables(): tf.Variable[] {
  const registered = (tf.engine() as unknown as { registeredVariables: Record<string, tf.Variable> }).registeredVariables;
  return Object.values(registered).filter((v) => v.trainable);
}
