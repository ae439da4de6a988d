/**
 * NormScope's normalization layers. The worker calls `registerNormLayers(tf)` with the tf instance
 * the user's model uses, so models that build our layers (and model.json files that name them)
 * load there. The text written next to refactored models comes from ./emit (kept out of this
 * module so the worker does not bundle the TypeScript compiler). Nothing here imports tf at run time.
 */
import type * as TF from '@tensorflow/tfjs';
import { defineNormLayers } from './defineNormLayers';
import type { NormLayers } from './normLayerTypes';

export { defineNormLayers } from './defineNormLayers';
export type {
  AffineNormArgs,
  GroupNormalizationArgs,
  Identifier,
  NormLayerClass,
  NormLayers,
  RMSNormalizationArgs,
  WeightNormalizationArgs,
} from './normLayerTypes';

const defined = new WeakMap<object, NormLayers>();

/** Defines and registers the layers on `tf` once per tf instance; later calls return the same classes. */
export function registerNormLayers(tf: typeof TF): NormLayers {
  let layers = defined.get(tf);
  if (!layers) {
    layers = defineNormLayers(tf);
    defined.set(tf, layers);
  }
  return layers;
}
