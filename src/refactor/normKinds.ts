/**
 * The five normalizations a refactor can produce, the options each understands, and how options
 * translate when one is swapped for another (which survive, which are dropped and why).
 */
import { NORM_CLASS_NAMES, type NormKind } from '../protocol/vocabulary';

export interface NormSpec {
  kind: NormKind;
  className: string;
  /** Short name for titles: 'GroupNorm'. */
  label: string;
  /** 'tf' layers come from `tf.layers.<factory>`; 'normscope' ones from the generated norm-layers file. */
  source: 'tf' | 'normscope';
  factory: string;
  /** Options with a meaning for this layer, besides the base layer options. */
  options: ReadonlySet<string>;
  /** Whether `axis` may list several axes (LayerNorm, RMSNorm) or names one channel axis. */
  axisList: boolean;
}

const AFFINE = ['axis', 'epsilon', 'center', 'scale', 'betaInitializer', 'gammaInitializer', 'betaRegularizer', 'gammaRegularizer'];
const CONSTRAINTS = ['betaConstraint', 'gammaConstraint'];
const MOVING = ['momentum', 'movingMeanInitializer', 'movingVarianceInitializer'];
const BETA = ['center', 'betaInitializer', 'betaRegularizer', 'betaConstraint'];

/** Options every layer takes (tfjs `LayerArgs`), kept on a swap. `weights` is not: its shapes belong to the old layer. */
export const BASE_OPTIONS: ReadonlySet<string> = new Set([
  'name',
  'inputShape',
  'batchInputShape',
  'batchSize',
  'dtype',
  'trainable',
  'inputDType',
]);

export const NORM_SPECS: Readonly<Record<NormKind, NormSpec>> = {
  batchNorm: {
    kind: 'batchNorm',
    className: NORM_CLASS_NAMES.batchNorm,
    label: 'BatchNorm',
    source: 'tf',
    factory: 'batchNormalization',
    options: new Set([...AFFINE, ...CONSTRAINTS, ...MOVING]),
    axisList: false,
  },
  layerNorm: {
    kind: 'layerNorm',
    className: NORM_CLASS_NAMES.layerNorm,
    label: 'LayerNorm',
    source: 'tf',
    factory: 'layerNormalization',
    options: new Set(AFFINE),
    axisList: true,
  },
  groupNorm: {
    kind: 'groupNorm',
    className: NORM_CLASS_NAMES.groupNorm,
    label: 'GroupNorm',
    source: 'normscope',
    factory: 'groupNormalization',
    options: new Set([...AFFINE, ...CONSTRAINTS, 'groups']),
    axisList: false,
  },
  instanceNorm: {
    kind: 'instanceNorm',
    className: NORM_CLASS_NAMES.instanceNorm,
    label: 'InstanceNorm',
    source: 'normscope',
    factory: 'instanceNormalization',
    options: new Set([...AFFINE, ...CONSTRAINTS]),
    axisList: false,
  },
  rmsNorm: {
    kind: 'rmsNorm',
    className: NORM_CLASS_NAMES.rmsNorm,
    label: 'RMSNorm',
    source: 'normscope',
    factory: 'rmsNormalization',
    options: new Set(['axis', 'epsilon', 'scale', 'gammaInitializer', 'gammaRegularizer', 'gammaConstraint']),
    axisList: true,
  },
};

export function specOfClass(className: string): NormSpec | undefined {
  return Object.values(NORM_SPECS).find((s) => s.className === className);
}

/** A property of the old layer's config: its name, source text and literal value if it has one. */
export interface OptionInfo {
  name: string;
  text: string;
  value?: unknown;
}

export interface DroppedOption extends OptionInfo {
  /** Why it has no meaning for the target, short enough for a code comment. */
  reason: string;
}

function reasonFor(option: OptionInfo, from: NormSpec, to: NormSpec): string | null {
  const { name } = option;
  if (BASE_OPTIONS.has(name)) return null;
  if (name === 'weights') return `initial weights are shaped for ${from.className}`;
  if (to.options.has(name)) {
    // tfjs 4.x BatchNormalization and LayerNormalization throw in training without gamma or beta.
    if (to.source === 'tf' && (name === 'center' || name === 'scale') && option.value === false) {
      return `tf.layers.${to.factory} cannot train without its ${name === 'center' ? 'beta' : 'gamma'} in tfjs 4`;
    }
    if (name === 'axis' && Array.isArray(option.value) && !to.axisList) return `${to.label} takes one channel axis, not a list`;
    return null;
  }
  if (MOVING.includes(name))
    return `running averages exist only in BatchNorm; ${to.label} uses each sample's own statistics, the same in training and inference`;
  if (name === 'groups') return 'only GroupNorm splits channels into groups';
  if (BETA.includes(name) && to.kind === 'rmsNorm') return 'RMSNorm does not re-center, so it has no beta';
  if (CONSTRAINTS.includes(name)) return `${to.className} takes no constraints`;
  return `not an option of ${to.className}`;
}

/** Which of the old layer's options to drop for the target, each with its reason. */
export function optionsToDrop(options: readonly OptionInfo[], from: NormSpec, to: NormSpec): DroppedOption[] {
  const dropped: DroppedOption[] = [];
  for (const option of options) {
    const reason = reasonFor(option, from, to);
    if (reason !== null) dropped.push({ ...option, reason });
  }
  return dropped;
}

/** `momentum: 0.9, movingMeanInitializer (running averages ...); groups: 4 (only GroupNorm ...)`. */
export function describeDropped(dropped: readonly DroppedOption[]): string {
  const byReason = new Map<string, string[]>();
  for (const d of dropped) {
    const text = d.text.replace(/\s+/g, ' ');
    const shown = text.length <= 24 ? `${d.name}: ${text}` : d.name;
    byReason.set(d.reason, [...(byReason.get(d.reason) ?? []), shown]);
  }
  return [...byReason].map(([reason, names]) => `${names.join(', ')} (${reason})`).join('; ');
}
