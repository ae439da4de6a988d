/**
 * Read access to the sampled statistics of a run, and the helpers every detector shares
 * (persistence over consecutive samples, weight layers, the norm a fix should insert).
 */
import type { Finding, LayerInfo, NormKind, StatName, StepSample } from '../../protocol/run';
import { NORM_CLASS_NAMES, PASS_THROUGH_CLASSES } from '../../protocol/vocabulary';
import type { DetectorThresholds } from './thresholds';

/** A sampled step as the detectors read it: a StepSample, or a run log's sample (float32 values, src/runlog). */
export type DetectorSample = Pick<StepSample, 'step' | 'loss'> & { values: ArrayLike<number> };

export interface DetectorInput {
  layers: LayerInfo[];
  statNames: readonly StatName[];
  samples: readonly DetectorSample[];
  /** Loss at every step, index = step. */
  loss: number[];
  /** Examples per step; per device in a distributed run. */
  batchSize: number;
  learningRate?: number;
  /** A distributed run (a run log of DistributedDataParallel): its processes, and the layers that are SyncBatchNorm. */
  distributed?: { worldSize: number; syncBatchNorm: readonly string[] };
  /** How messages name a norm to insert after `layer` (the PyTorch run: `nn.BatchNorm2d`); tfjs class names when absent. */
  normName?: (kind: NormKind, layer: LayerInfo) => string;
  /** How fix hints name framework APIs (the PyTorch run: `torch.nn.utils.clip_grad_norm_`); tfjs names when absent. */
  words?: FixWords;
}

/** The framework APIs fix hints mention, in the words of the framework that built the model. */
export interface FixWords {
  /** Gradient clipping. */
  clip: string;
  /** The variance-preserving initializers (Glorot for tanh/linear, He for ReLU). */
  init: string;
  /** He initialization alone (ReLU layers). */
  heInit: string;
  /** The leaky ReLU activation. */
  leakyRelu: string;
  /** A BatchNorm setting that makes its moving averages follow the batch statistics faster. */
  fasterAverages: string;
}

export const TFJS_WORDS: FixWords = {
  clip: "the optimizer's clipNorm / clipValue",
  init: "kernelInitializer 'glorotNormal' / 'heNormal'",
  heInit: "kernelInitializer 'heNormal'",
  leakyRelu: 'tf.layers.leakyReLU',
  fasterAverages: 'a smaller momentum, e.g. 0.9: tfjs weighs the old average by it',
};

/** One run's statistics with the thresholds in force. */
export class RunStats {
  private readonly statIndex = new Map<StatName, number>();
  private readonly width: number;

  constructor(
    readonly input: DetectorInput,
    readonly t: DetectorThresholds,
  ) {
    input.statNames.forEach((s, i) => this.statIndex.set(s, i));
    this.width = input.statNames.length;
  }

  get layers(): LayerInfo[] {
    return this.input.layers;
  }
  get samples(): readonly DetectorSample[] {
    return this.input.samples;
  }

  /** The value of `stat` for layer `layer` in sample `sample`; NaN when absent (null over JSON too). */
  value(sample: number, layer: number, stat: StatName): number {
    const col = this.statIndex.get(stat);
    if (col === undefined) return NaN;
    const v = this.input.samples[sample].values[layer * this.width + col];
    return v === null || v === undefined ? NaN : v;
  }

  /** `stat` of one layer over every sample. */
  series(layer: number, stat: StatName): number[] {
    return this.input.samples.map((_, s) => this.value(s, layer, stat));
  }

  /**
   * Samples needed for a persistent condition: the threshold, or every usable sample of a short run
   * (a run that ended in NaN at its second step has one usable sample).
   */
  get persistence(): number {
    const usable = this.input.samples.filter((s) => Number.isFinite(s.loss)).length;
    return Math.max(1, Math.min(this.t.consecutiveSamples, usable));
  }

  /**
   * Index of the first sample that starts `persistence` consecutive samples for which `holds` is
   * true, or -1. Transient spikes (one bad batch) therefore raise nothing. Samples where `measured`
   * is false neither count nor break the run: a GAN's network is measured only at the steps that use
   * it, NaN ("not measured") in the others.
   */
  firstPersistent(holds: (sample: number) => boolean, measured: (sample: number) => boolean = () => true): number {
    let run = 0;
    let start = -1;
    for (let s = 0; s < this.input.samples.length; s++) {
      if (!measured(s)) continue;
      if (!holds(s)) {
        run = 0;
        continue;
      }
      if (run++ === 0) start = s;
      if (run >= this.persistence) return start;
    }
    return -1;
  }

  /**
   * A condition that persisted (`firstPersistent`) and has not ended: `first` starts it, `latest` is the last sample
   * where it held. Undefined when it never persisted, or when its last `persistence` measured samples all fail it —
   * units stuck at a batch's edge (dead or saturated) that came back were not stuck; reporting them is a false alarm.
   */
  ongoing(holds: (sample: number) => boolean, measured: (sample: number) => boolean): { first: number; latest: number } | undefined {
    const first = this.firstPersistent(holds, measured);
    if (first < 0) return undefined;
    let latest = -1;
    let failedSince = 0; // measured samples after `latest`
    for (let s = this.input.samples.length - 1; s >= first && latest < 0; s--) {
      if (!measured(s)) continue;
      if (holds(s)) latest = s;
      else failedSince++;
    }
    return failedSince >= this.persistence ? undefined : { first, latest };
  }

  /** `layerNorm` → `LayerNormalization` (or the run's own naming), for messages. */
  normName(kind: NormKind, layer: LayerInfo): string {
    return this.input.normName?.(kind, layer) ?? NORM_CLASS_NAMES[kind];
  }

  /** Framework API names for fix hints. */
  get words(): FixWords {
    return this.input.words ?? TFJS_WORDS;
  }

  step(sample: number): number {
    return this.input.samples[sample].step;
  }

  /** Layers with trainable weights that are not normalizations (Dense, Conv, RNN, Embedding …). */
  weightLayers(): LayerInfo[] {
    return this.input.layers.filter((l) => l.paramCount > 0 && !l.isNorm);
  }

  /** The layer after `index`, skipping layers that only reshape or drop (Dropout, Activation, Flatten…), or undefined. */
  nextSignificant(index: number): LayerInfo | undefined {
    return this.input.layers.slice(index + 1).find((l) => !PASS_THROUGH.has(l.className));
  }

  /**
   * Whether `layer` is a model's output: marked so by the engine (LayerInfo.modelOutput), else the table's last layer,
   * or the last of its model where a script's models share the table (their names start with the model's variable:
   * `netG/…`, `netD/…`).
   */
  isOutput(layer: LayerInfo): boolean {
    if (layer.modelOutput) return true;
    const next = this.input.layers[layer.index + 1];
    const model = (name: string) => (name.includes('/') ? name.slice(0, name.indexOf('/')) : '');
    return next === undefined || model(next.name) !== model(layer.name);
  }

  /** Whether a normalization layer normalizes `layer`'s output (the next significant layer is one). */
  feedsNorm(layer: LayerInfo): boolean {
    return this.nextSignificant(layer.index)?.isNorm ?? false;
  }
}

/** Layers that do not change the statistics question being asked about their neighbours. */
const PASS_THROUGH = new Set(PASS_THROUGH_CLASSES);

/** A finding located at a layer. */
export function layerFinding(layer: LayerInfo, fields: Omit<Finding, 'layer' | 'source'>): Finding {
  return { ...fields, layer: layer.name, source: layer.source };
}

/**
 * The norm a fix should insert after `layer`: GroupNorm for conv feature maps at small batch
 * (BN's batch statistics are unreliable below 16 — Wu & He 2018), BatchNorm for conv otherwise,
 * LayerNorm for dense and recurrent layers (per-example statistics, batch-size independent).
 */
export function normToInsert(layer: LayerInfo, batchSize: number): NormKind {
  const isConv = /^(Conv|SeparableConv|DepthwiseConv)/.test(layer.className);
  if (isConv) return batchSize < 16 ? 'groupNorm' : 'batchNorm';
  return 'layerNorm';
}

/** `0.734` → `73%`. */
export function pct(x: number): string {
  return `${Math.round(x * 100)}%`;
}

/** Short scientific/decimal form for messages. */
export function num(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return '0';
  const a = Math.abs(x);
  return a >= 1e4 || a < 1e-3 ? x.toExponential(1) : Number(x.toPrecision(3)).toString();
}

/** What a BatchNorm should become when the batch cannot be trusted: GroupNorm on feature maps, LayerNorm on vectors. */
export function batchFreeNorm(layer: LayerInfo): NormKind {
  const shape = Array.isArray(layer.outputShape[0])
    ? (layer.outputShape[0] as (number | null)[])
    : (layer.outputShape as (number | null)[]);
  return shape.length > 2 ? 'groupNorm' : 'layerNorm';
}
