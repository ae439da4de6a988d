/**
 * WeightNormalization, defined by defineNormLayers.ts with the same tf instance (see there why everything is built
 * inside a function and why this file imports only types).
 */
import type * as TF from '@tensorflow/tfjs';
import type { ConfigDict, NormLayerClass, Shape, Tensor, WeightNormalizationArgs } from './normLayerTypes';

/** Layers whose kernel has the output units on its last axis, so that g · v/‖v‖ is per unit. */
const WEIGHT_NORMALIZABLE = ['Dense', 'Conv1D', 'Conv2D', 'Conv3D'];

/**
 * The WeightNormalization class for `tf`, registered for model.json; `serialize` is the layers' shared config
 * helper. The return type is spelled out for declaration emit in users' projects (see NormLayers).
 */
export function defineWeightNormalization(
  tf: typeof TF,
  serialize: (obj: { getClassName(): string; getConfig(): ConfigDict } | null) => ConfigDict | null,
): NormLayerClass<[args: WeightNormalizationArgs]> {
  const registry = () => tf.serialization.SerializationMap.getMap().classNameMap;

  function deserializeLayer(spec: { className: string; config: ConfigDict } | undefined): TF.layers.Layer {
    const entry = spec && registry()[spec.className];
    if (!spec || !entry) throw new Error(`WeightNormalization: unknown wrapped layer ${JSON.stringify(spec && spec.className)}.`);
    return entry[1](entry[0], spec.config) as TF.layers.Layer;
  }

  /**
   * Wraps a Dense/Conv layer and trains its kernel as w = g · v/‖v‖ (Salimans & Kingma 2016):
   * the length g of each unit's weight vector is learned apart from its direction v.
   */
  class WeightNormalization extends tf.layers.Layer {
    static className = 'WeightNormalization';
    layer: TF.layers.Layer;
    g: TF.LayerVariable | null = null;

    constructor(args: WeightNormalizationArgs) {
      const { layer: spec, ...rest } = args;
      // Duck-typed: `tf.layers.Layer` may be a subclass of the class the layer was made from (NormScope's tf shim).
      const layer =
        typeof (spec as { getClassName?: unknown }).getClassName === 'function'
          ? (spec as TF.layers.Layer)
          : deserializeLayer(spec as { className: string; config: ConfigDict });
      if (!WEIGHT_NORMALIZABLE.includes(layer.getClassName())) {
        throw new Error(
          `WeightNormalization can wrap ${WEIGHT_NORMALIZABLE.join(', ')} layers, not ${layer.getClassName()} '${layer.name}'.`,
        );
      }
      // `wrap(dense({ inputShape }))` as a model's first layer: the wrapper takes over the input shape.
      const inherited =
        rest.inputShape == null && rest.batchInputShape == null && layer.batchInputShape ? { batchInputShape: layer.batchInputShape } : {};
      super({ ...rest, ...inherited });
      this.layer = layer;
    }

    /** The wrapped layer's kernel variable, whose `read()` its `call` uses. */
    get kernelHolder(): { kernel: { read(): Tensor } } {
      return this.layer as unknown as { kernel: { read(): Tensor } };
    }

    override build(inputShape: Shape | Shape[]): void {
      if (!this.layer.built) {
        this.layer.build(inputShape);
        this.layer.built = true;
      }
      const v = this.kernelHolder.kernel.read();
      // Start with g = ‖v‖ so the wrapped layer computes exactly what it did before wrapping.
      this.g = this.addWeight('g', [v.shape[v.rank - 1]], 'float32', tf.initializers.ones());
      this.g.write(tf.tidy(() => tf.sqrt(tf.sum(tf.square(v), [...Array(v.rank - 1).keys()]))));
      this.built = true;
    }

    override computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
      return this.layer.computeOutputShape(inputShape);
    }

    override call(inputs: Tensor | Tensor[], kwargs: Record<string, unknown>): Tensor | Tensor[] {
      return tf.tidy(() => {
        const holder = this.kernelHolder;
        const v = holder.kernel;
        const value = v.read();
        const norm = tf.sqrt(tf.add(tf.sum(tf.square(value), [...Array(value.rank - 1).keys()]), 1e-12));
        const w = tf.mul(tf.div(value, norm), this.g!.read());
        // The wrapped layer reads its kernel once per call; lend it w for this call only.
        holder.kernel = { read: () => w };
        try {
          return this.layer.call(inputs, kwargs);
        } finally {
          holder.kernel = v;
        }
      });
    }

    override get trainableWeights(): TF.LayerVariable[] {
      return this.trainable ? [...this.layer.trainableWeights, ...super.trainableWeights] : [];
    }

    override get nonTrainableWeights(): TF.LayerVariable[] {
      return this.trainable
        ? [...this.layer.nonTrainableWeights, ...super.nonTrainableWeights]
        : [...this.layer.weights, ...super.nonTrainableWeights];
    }

    override get losses() {
      return [...super.losses, ...this.layer.losses];
    }

    override getConfig(): ConfigDict {
      return { ...super.getConfig(), layer: serialize(this.layer) };
    }
  }

  tf.serialization.registerClass(WeightNormalization);
  return WeightNormalization;
}
