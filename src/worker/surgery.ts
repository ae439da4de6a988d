/**
 * What-if runs: the loaded model with the normalization layer(s) created at one source line replaced by
 * another normalization, rebuilt in memory from its config. Every other layer keeps its (seeded) initial
 * weights, so candidates differ only in the normalization.
 */
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { NORM_CLASS_NAMES, type NormKind } from '../protocol';
import { registerNormLayers } from '../layers';
import { UserCodeError } from '../userCode/errors';
import type { LoadedModel } from './loader';

const SWAPPABLE = new Set(Object.values(NORM_CLASS_NAMES));

type LayerJson = { class_name: string; config: Record<string, unknown>; name?: string };

/** Config of the replacement: options every norm understands carry over; the rest take defaults. */
function replacementConfig(old: Record<string, unknown>, to: NormKind): Record<string, unknown> {
  const keep = ['name', 'trainable', 'dtype', 'batch_input_shape', 'epsilon'];
  const config: Record<string, unknown> = {};
  for (const k of keep) if (old[k] !== undefined) config[k] = old[k];
  // Channels-last everywhere; LayerNorm/RMSNorm normalize the last axis, the others use it as channels.
  config.axis = -1;
  if (to !== 'rmsNorm') {
    config.center = old.center ?? true;
    config.scale = old.scale ?? true;
  }
  return config;
}

/** Rebuilds `loaded.model` with every norm layer created at `line` of `file` swapped for `to`. */
export async function swapNormAtLine(loaded: LoadedModel, file: string, line: number, to: NormKind): Promise<LoadedModel> {
  registerNormLayers(tf);
  const old = loaded.model;
  const targets = new Set(
    old.layers.filter((l) => SWAPPABLE.has(l.getClassName()) && loaded.sourceOf(l)?.line === line).map((l) => l.name),
  );
  if (targets.size === 0) {
    throw new UserCodeError(
      'no-norm-at-line',
      `${path.basename(file)}:${line} creates no normalization layer of this model (BatchNorm, LayerNorm, GroupNorm, RMSNorm or InstanceNorm), so there is nothing to compare.`,
      { file, line, column: 1 },
    );
  }
  const topology = old.toJSON(null, false) as unknown as { class_name: string; config: { layers: LayerJson[] } };
  for (const layer of topology.config.layers) {
    if (targets.has(String(layer.config.name))) {
      layer.config = replacementConfig(layer.config, to);
      layer.class_name = NORM_CLASS_NAMES[to];
    }
  }
  const model = (await tf.models.modelFromJSON({
    modelTopology: topology as unknown as tf.io.ModelJSON['modelTopology'],
  } as tf.io.ModelJSON)) as tf.LayersModel;
  for (const layer of model.layers) {
    if (targets.has(layer.name)) continue;
    const weights = old.getLayer(layer.name).getWeights();
    if (weights.length) layer.setWeights(weights);
  }
  if (old.optimizer) {
    const Optimizer = old.optimizer.constructor as unknown as tf.serialization.SerializableConstructor<tf.Optimizer>;
    const optimizer = (Optimizer as unknown as { fromConfig: (c: unknown, cfg: tf.serialization.ConfigDict) => tf.Optimizer }).fromConfig(
      Optimizer,
      old.optimizer.getConfig(),
    );
    model.compile({ optimizer, loss: old.loss, metrics: [] });
  }
  const byName = new Map(old.layers.map((l) => [l.name, loaded.sourceOf(l)]));
  old.dispose();
  return { ...loaded, model, sourceOf: (layer) => byName.get(layer.name) ?? null };
}
