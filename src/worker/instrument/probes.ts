/**
 * The static side of instrumentation: which layers are measured, what kind each is (ReLU-like,
 * saturating, normalization) and which weights belong to it. Built once per run.
 */
import * as tf from '@tensorflow/tfjs';
import type { LayerInfo, SourceLocation } from '../../protocol';
import type { BatchNormState } from './meters';

type LayerVariable = tf.LayerVariable;

export interface LayerProbe {
  info: LayerInfo;
  layer: tf.layers.Layer;
  /** Output ≥ 0 with a hard zero (ReLU, ReLU6): dead units are measured. */
  reluLike: boolean;
  /** tanh/sigmoid output: saturation is measured. */
  saturating: 'tanh' | 'sigmoid' | null;
  /** BatchNormalization: its normalized axis and moving statistics. */
  batchNorm: BatchNormState | null;
  gamma: LayerVariable | null;
  beta: LayerVariable | null;
  /** The layer's trainable weights, as the engine variables the optimizer updates. */
  variables: tf.Variable[];
}

const RELU_LIKE = new Set(['relu', 'relu6']);
const NORM_CLASS = /Normalization$/;

function activationName(layer: tf.layers.Layer): string | undefined {
  const className = layer.getClassName();
  if (className === 'ReLU') return 'relu';
  if (className === 'Softmax') return 'softmax';
  const activation = (layer as unknown as { activation?: { getClassName?: () => string } }).activation;
  return activation?.getClassName?.();
}

function outputShapeOf(layer: tf.layers.Layer): LayerInfo['outputShape'] {
  try {
    return layer.outputShape as LayerInfo['outputShape'];
  } catch {
    return []; // a layer used at several places with different shapes has no single output shape
  }
}

/** A copy of a variable's values now (a BatchNorm's moving statistics before training moves them). */
function valuesOf(variable: LayerVariable): Float32Array {
  return Float32Array.from(variable.read().dataSync() as Float32Array);
}

function weightNamed(layer: tf.layers.Layer, name: string): LayerVariable | null {
  const pattern = new RegExp(`(^|/)${name}(_\\d+)?$`);
  return layer.weights.find((w) => pattern.test(w.originalName) || pattern.test(w.name)) ?? null;
}

/** Every layer of the model except InputLayers (which compute nothing), in `model.layers` order. */
export function describeLayers(model: tf.LayersModel, sourceOf: (layer: tf.layers.Layer) => SourceLocation | null): LayerProbe[] {
  return describeLayerList(
    model.layers.filter((l) => l.getClassName() !== 'InputLayer'),
    sourceOf,
  );
}

/** Probes for the given layers, indexed in order; `nameOf` names them in the report (default: the layer's name). */
export function describeLayerList(
  layers: tf.layers.Layer[],
  sourceOf: (layer: tf.layers.Layer) => SourceLocation | null,
  nameOf = (layer: tf.layers.Layer) => layer.name,
): LayerProbe[] {
  return layers.map((layer, index) => {
    const className = layer.getClassName();
    const activation = activationName(layer);
    const isBatchNorm = className === 'BatchNormalization';
    const movingMean = isBatchNorm ? weightNamed(layer, 'moving_mean') : null;
    const movingVariance = isBatchNorm ? weightNamed(layer, 'moving_variance') : null;
    const isNorm = NORM_CLASS.test(className);
    const config = layer as unknown as { axis?: number; momentum?: number; epsilon?: number };
    const batchNorm: BatchNormState | null =
      movingMean && movingVariance
        ? {
            axis: config.axis ?? -1,
            momentum: config.momentum ?? 0.99,
            epsilon: config.epsilon ?? 1e-3,
            movingMean,
            movingVariance,
            initial: { mean: valuesOf(movingMean), variance: valuesOf(movingVariance) },
            updates: 0,
          }
        : null;
    return {
      info: {
        index,
        name: nameOf(layer),
        className,
        outputShape: outputShapeOf(layer),
        paramCount: layer.countParams(),
        ...(activation ? { activation } : {}),
        isNorm,
        ...(batchNorm ? { movingAverageWeight: 1 - batchNorm.momentum } : {}),
        source: sourceOf(layer),
      },
      layer,
      reluLike: activation !== undefined && RELU_LIKE.has(activation),
      saturating: activation === 'tanh' || activation === 'sigmoid' ? activation : null,
      batchNorm,
      gamma: isNorm ? weightNamed(layer, 'gamma') : null,
      beta: isNorm ? weightNamed(layer, 'beta') : null,
      variables: layer.trainableWeights.map((w) => w.read() as tf.Variable),
    };
  });
}
