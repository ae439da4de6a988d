/**
 * Normalization layers TensorFlow.js lacks: GroupNormalization, InstanceNormalization,
 * RMSNormalization and WeightNormalization, as serializable `tf.layers.Layer` subclasses.
 *
 * Everything is built inside `defineNormLayers(tf)` and tf is imported for its types only, so the
 * same code works with whichever tf instance the caller has, and the text of this file (with
 * normLayerTypes.ts and weightNormalization.ts, imports dropped) is what NormScope writes next to a
 * refactored model as `norm-layers.ts`/`.js` (see emit.ts). Keep the three self-contained: no other
 * imports, no private/protected members (they break declaration emit of the exported classes in
 * users' projects).
 */
import type * as TF from '@tensorflow/tfjs';
import type {
  AffineNormArgs,
  ConfigDict,
  Constraint,
  GroupNormalizationArgs,
  Identifier,
  Initializer,
  NormLayers,
  Regularizer,
  RMSNormalizationArgs,
  Shape,
  Tensor,
} from './normLayerTypes';
import { defineWeightNormalization } from './weightNormalization';

export function defineNormLayers(tf: typeof TF): NormLayers {
  const registry = () => tf.serialization.SerializationMap.getMap().classNameMap;

  /** Turns an initializer/regularizer/constraint identifier into an instance, the way built-in layers do. */
  function resolve<T>(id: Identifier<T> | null | undefined, kind: 'initializers' | 'regularizers' | 'constraints'): T | null {
    if (id == null) return null;
    if (typeof id === 'string') {
      const name = id.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
      const make = (tf[kind] as unknown as Record<string, ((args: object) => T) | undefined>)[name];
      if (!make) throw new Error(`Unknown ${kind.slice(0, -1)} '${id}'; use one of: ${Object.keys(tf[kind]).join(', ')}.`);
      return make({});
    }
    const maybeDict = id as { className?: unknown; getClassName?: unknown; config?: ConfigDict };
    if (typeof maybeDict.className === 'string' && typeof maybeDict.getClassName !== 'function') {
      const entry = registry()[maybeDict.className];
      if (!entry) throw new Error(`Unknown ${kind.slice(0, -1)} class '${maybeDict.className}'.`);
      return entry[1](entry[0], maybeDict.config ?? {}) as T;
    }
    return id as T;
  }

  function serialize(obj: { getClassName(): string; getConfig(): ConfigDict } | null): ConfigDict | null {
    return obj ? { className: obj.getClassName(), config: obj.getConfig() } : null;
  }

  function single(inputs: Tensor | Tensor[]): Tensor {
    return Array.isArray(inputs) ? inputs[0] : inputs;
  }

  /** Normalizes a possibly negative axis against a rank, with an error naming the layer. */
  function absoluteAxis(axis: number, rank: number, layer: string): number {
    const abs = axis < 0 ? rank + axis : axis;
    if (abs < 1 || abs >= rank)
      throw new Error(`${layer}: axis ${axis} is out of range for an input of rank ${rank} (axis 0 is the batch).`);
    return abs;
  }

  /**
   * Normalizes each sample over groups of channels (Wu & He 2018): statistics never mix samples,
   * so it behaves the same at batch size 1 as at 256, unlike BatchNormalization.
   */
  class GroupNormalization extends tf.layers.Layer {
    static className = 'GroupNormalization';
    groups: number | null;
    axis: number;
    epsilon: number;
    center: boolean;
    scale: boolean;
    gammaInitializer: Initializer;
    betaInitializer: Initializer;
    gammaRegularizer: Regularizer | null;
    betaRegularizer: Regularizer | null;
    gammaConstraint: Constraint | null;
    betaConstraint: Constraint | null;
    gamma: TF.LayerVariable | null = null;
    beta: TF.LayerVariable | null = null;

    constructor(args: GroupNormalizationArgs = {}) {
      super(args);
      this.groups = args.groups ?? null;
      if (this.groups != null && (!Number.isInteger(this.groups) || this.groups < 1)) {
        throw new Error(`${this.getClassName()} '${this.name}': groups must be a positive integer, got ${args.groups}.`);
      }
      this.axis = args.axis ?? -1;
      this.epsilon = args.epsilon ?? 1e-3;
      this.center = args.center ?? true;
      this.scale = args.scale ?? true;
      this.gammaInitializer = resolve(args.gammaInitializer ?? 'ones', 'initializers')!;
      this.betaInitializer = resolve(args.betaInitializer ?? 'zeros', 'initializers')!;
      this.gammaRegularizer = resolve(args.gammaRegularizer, 'regularizers');
      this.betaRegularizer = resolve(args.betaRegularizer, 'regularizers');
      this.gammaConstraint = resolve(args.gammaConstraint, 'constraints');
      this.betaConstraint = resolve(args.betaConstraint, 'constraints');
      this.supportsMasking = true;
    }

    /** The group count for `channels`, checked. InstanceNormalization overrides it. */
    groupsFor(channels: number): number {
      if (this.groups == null) {
        let g = Math.min(32, channels);
        while (channels % g !== 0) g--;
        return g;
      }
      if (this.groups > channels || channels % this.groups !== 0) {
        throw new Error(
          `${this.getClassName()} '${this.name}': ${channels} channels cannot be split into ${this.groups} equal groups; use a divisor of ${channels}.`,
        );
      }
      return this.groups;
    }

    override build(inputShape: Shape | Shape[]): void {
      const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
      const axis = absoluteAxis(this.axis, shape.length, `${this.getClassName()} '${this.name}'`);
      const channels = shape[axis];
      if (channels == null) throw new Error(`${this.getClassName()} '${this.name}': the channel axis ${this.axis} must have a known size.`);
      this.groups = this.groupsFor(channels);
      if (this.scale)
        this.gamma = this.addWeight(
          'gamma',
          [channels],
          'float32',
          this.gammaInitializer,
          this.gammaRegularizer ?? undefined,
          true,
          this.gammaConstraint ?? undefined,
        );
      if (this.center)
        this.beta = this.addWeight(
          'beta',
          [channels],
          'float32',
          this.betaInitializer,
          this.betaRegularizer ?? undefined,
          true,
          this.betaConstraint ?? undefined,
        );
      this.built = true;
    }

    override computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
      return inputShape;
    }

    override call(inputs: Tensor | Tensor[]): Tensor {
      return tf.tidy(() => {
        let x = single(inputs);
        const rank = x.rank;
        const axis = absoluteAxis(this.axis, rank, `${this.getClassName()} '${this.name}'`);
        // Work channels-last: move the channel axis to the end and back.
        const perm = [...Array(rank).keys()].filter((a) => a !== axis).concat(axis);
        if (axis !== rank - 1) x = tf.transpose(x, perm);
        const shape = x.shape;
        const channels = shape[rank - 1];
        const groups = this.groups ?? this.groupsFor(channels);
        const grouped = tf.reshape(x, [shape[0], -1, groups, channels / groups]);
        const { mean, variance } = tf.moments(grouped, [1, 3], true);
        let y = tf.reshape(tf.mul(tf.sub(grouped, mean), tf.rsqrt(tf.add(variance, this.epsilon))), shape);
        if (this.gamma) y = tf.mul(y, this.gamma.read());
        if (this.beta) y = tf.add(y, this.beta.read());
        if (axis !== rank - 1)
          y = tf.transpose(
            y,
            perm.map((_, i) => perm.indexOf(i)),
          );
        return y;
      });
    }

    override getConfig(): ConfigDict {
      return {
        ...super.getConfig(),
        groups: this.groups,
        axis: this.axis,
        epsilon: this.epsilon,
        center: this.center,
        scale: this.scale,
        gammaInitializer: serialize(this.gammaInitializer),
        betaInitializer: serialize(this.betaInitializer),
        gammaRegularizer: serialize(this.gammaRegularizer),
        betaRegularizer: serialize(this.betaRegularizer),
        gammaConstraint: serialize(this.gammaConstraint),
        betaConstraint: serialize(this.betaConstraint),
      };
    }
  }

  /** GroupNormalization with one group per channel (Ulyanov et al. 2016): per-sample, per-channel contrast normalization. */
  class InstanceNormalization extends GroupNormalization {
    static override className = 'InstanceNormalization';
    constructor(args: AffineNormArgs = {}) {
      super({ ...args, groups: undefined });
    }
    override groupsFor(channels: number): number {
      return channels;
    }
    override getConfig(): ConfigDict {
      const { groups: _groups, ...config } = super.getConfig();
      return config;
    }
  }

  /** y = x / sqrt(mean(x²) + ε) · g (Zhang & Sennrich 2019): LayerNorm without re-centering, as in modern transformers. */
  class RMSNormalization extends tf.layers.Layer {
    static className = 'RMSNormalization';
    axis: number | number[];
    epsilon: number;
    scale: boolean;
    gammaInitializer: Initializer;
    gammaRegularizer: Regularizer | null;
    gammaConstraint: Constraint | null;
    gamma: TF.LayerVariable | null = null;

    constructor(args: RMSNormalizationArgs = {}) {
      super(args);
      this.axis = args.axis ?? -1;
      this.epsilon = args.epsilon ?? 1e-6;
      this.scale = args.scale ?? true;
      this.gammaInitializer = resolve(args.gammaInitializer ?? 'ones', 'initializers')!;
      this.gammaRegularizer = resolve(args.gammaRegularizer, 'regularizers');
      this.gammaConstraint = resolve(args.gammaConstraint, 'constraints');
      this.supportsMasking = true;
    }

    axes(rank: number): number[] {
      const axes = Array.isArray(this.axis) ? this.axis : [this.axis];
      return axes.map((a) => absoluteAxis(a, rank, `RMSNormalization '${this.name}'`));
    }

    override build(inputShape: Shape | Shape[]): void {
      const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
      const axes = this.axes(shape.length);
      // gamma spans the normalized axes and broadcasts over the others.
      const gammaShape = shape.map((d, i) => (axes.includes(i) ? d : 1)).slice(1);
      if (gammaShape.some((d) => d == null)) throw new Error(`RMSNormalization '${this.name}': the normalized axes must have known sizes.`);
      if (this.scale)
        this.gamma = this.addWeight(
          'gamma',
          gammaShape as number[],
          'float32',
          this.gammaInitializer,
          this.gammaRegularizer ?? undefined,
          true,
          this.gammaConstraint ?? undefined,
        );
      this.built = true;
    }

    override computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
      return inputShape;
    }

    override call(inputs: Tensor | Tensor[]): Tensor {
      return tf.tidy(() => {
        const x = single(inputs);
        const meanSquare = tf.mean(tf.square(x), this.axes(x.rank), true);
        const y = tf.mul(x, tf.rsqrt(tf.add(meanSquare, this.epsilon)));
        return this.gamma ? tf.mul(y, this.gamma.read()) : y;
      });
    }

    override getConfig(): ConfigDict {
      return {
        ...super.getConfig(),
        axis: this.axis,
        epsilon: this.epsilon,
        scale: this.scale,
        gammaInitializer: serialize(this.gammaInitializer),
        gammaRegularizer: serialize(this.gammaRegularizer),
        gammaConstraint: serialize(this.gammaConstraint),
      };
    }
  }

  for (const cls of [GroupNormalization, InstanceNormalization, RMSNormalization]) tf.serialization.registerClass(cls);
  const WeightNormalization = defineWeightNormalization(tf, serialize); // registers itself
  return { GroupNormalization, InstanceNormalization, RMSNormalization, WeightNormalization };
}
