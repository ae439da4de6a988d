/**
 * The argument and return types of NormScope's normalization layers (defineNormLayers.ts). Types only, and
 * self-contained like the layers: emit.ts writes this text, the weight-normalization file and the layers into one
 * generated `norm-layers` module.
 */
import type * as TF from '@tensorflow/tfjs';

export type Tensor = TF.Tensor;
export type Shape = (number | null)[];
export type ConfigDict = TF.serialization.ConfigDict;
export type LayerArgs = NonNullable<ConstructorParameters<typeof TF.layers.Layer>[0]>;
export type Initializer = ReturnType<typeof TF.initializers.ones>;
export type Regularizer = ReturnType<typeof TF.regularizers.l2>;
export type Constraint = ReturnType<typeof TF.constraints.nonNeg>;
/** A name ('ones', 'glorot_uniform'), an instance, or the `{ className, config }` form of model.json. */
export type Identifier<T> = string | T | { className: string; config?: ConfigDict };

/** Arguments shared by the normalizations with a learned scale (gamma) and offset (beta). */
export interface AffineNormArgs extends LayerArgs {
  /** The channel/feature axis (default -1, channels last). */
  axis?: number;
  epsilon?: number;
  /** Learn an offset beta (default true). */
  center?: boolean;
  /** Learn a scale gamma (default true). */
  scale?: boolean;
  betaInitializer?: Identifier<Initializer>;
  gammaInitializer?: Identifier<Initializer>;
  betaRegularizer?: Identifier<Regularizer>;
  gammaRegularizer?: Identifier<Regularizer>;
  betaConstraint?: Identifier<Constraint>;
  gammaConstraint?: Identifier<Constraint>;
}
export interface GroupNormalizationArgs extends AffineNormArgs {
  /** Channels are split into this many groups. Default: the largest divisor of the channel count that is at most 32. */
  groups?: number;
}
export interface RMSNormalizationArgs extends LayerArgs {
  /** Axis or axes the root mean square is taken over (default -1). */
  axis?: number | number[];
  epsilon?: number;
  /** Learn a scale gamma (default true). */
  scale?: boolean;
  gammaInitializer?: Identifier<Initializer>;
  gammaRegularizer?: Identifier<Regularizer>;
  gammaConstraint?: Identifier<Constraint>;
}
export interface WeightNormalizationArgs extends LayerArgs {
  /** The Dense or Conv layer whose kernel is reparameterized (an instance or its serialized form). */
  layer: TF.layers.Layer | { className: string; config: ConfigDict };
}

/** A layer class as callers see it: `new GroupNormalization({ groups: 8 })`, registered under `className`. */
export interface NormLayerClass<A extends unknown[]> {
  new (...args: A): TF.layers.Layer;
  readonly className: string;
}
/**
 * What `defineNormLayers` returns. Spelled out (rather than inferred) so that declaration emit in
 * users' projects does not trip over tfjs's protected members on classes local to a function.
 */
export interface NormLayers {
  GroupNormalization: NormLayerClass<[args?: GroupNormalizationArgs]>;
  InstanceNormalization: NormLayerClass<[args?: AffineNormArgs]>;
  RMSNormalization: NormLayerClass<[args?: RMSNormalizationArgs]>;
  WeightNormalization: NormLayerClass<[args: WeightNormalizationArgs]>;
}
