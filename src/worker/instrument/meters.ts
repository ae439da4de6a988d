/**
 * Two ways to measure tensors during and after an instrumented step, with the same results:
 * - `HostMeter` (cpu, wasm): tensors already live in this process; it reads each one through a
 *   zero-copy view of the backend's memory, at once, and computes all its statistics in one fused
 *   pass (../stats/scan). No kernel launches, no transfers, nothing kept alive.
 * - `DeviceMeter` (any backend, e.g. tfjs-node): reductions run as tfjs ops on the device
 *   (../stats/activation, ../stats/norm); their scalars are kept and read back in ONE `dataSync`
 *   at `finish`.
 * Methods may be called inside the forward or backward pass. Each returns a getter that is valid
 * after `finish()`.
 */
import * as tf from '@tensorflow/tfjs';
import {
  deadUnitCount,
  finiteCount,
  maxValue,
  meanAndVariance,
  minValue,
  saturatedCount,
  SIGMOID_SATURATION,
  squaredNorm,
  TANH_SATURATION,
  zeroCount,
} from '../stats/activation';
import { batchMoments, gammaStats, movingMeanGap, movingVarGap, withoutWarmupOnDevice } from '../stats/norm';
import {
  batchNormGapsFromUpdate,
  MAX_DERIVED_MOMENTUM,
  scanActivation,
  scanBatchNormGaps,
  scanMoments,
  scanSquaredDistance,
  scanSquaredNorm,
  scanVector,
  withoutWarmup,
  type ActivationScan,
  type MovingStats,
} from '../stats/scan';
import { attachMemory } from '../stats/simd';
import { ReadBatch } from './readback';

export type Lazy = () => number;
export type Lazies<T> = { [K in keyof T]: Lazy };
/** A tensor's value kept from before an update: a kept tensor on the same buffer. */
export type Snapshot = tf.Tensor;

export interface Meter {
  /**
   * True when every measurement is complete when it returns (host): layer outputs are then
   * measured as they are produced, while still in cache, and need not be kept to the step's end.
   */
  readonly immediate: boolean;
  activation(x: tf.Tensor, countDead: boolean, saturating: 'tanh' | 'sigmoid' | null): Lazies<ActivationScan>;
  moments(x: tf.Tensor): { mean: Lazy; variance: Lazy };
  squaredNorm(x: tf.Tensor): Lazy;
  snapshot(x: tf.Tensor): Snapshot;
  /** ‖x − snapshot‖²: the squared norm of an update. */
  squaredDistance(x: tf.Tensor, before: Snapshot): Lazy;
  vector(x: tf.Tensor): { mean: Lazy; variance: Lazy; min: Lazy; max: Lazy };
  /**
   * BatchNorm's gaps: called before the layer runs (moving statistics not yet updated); `after`
   * is called once it ran (tfjs updates them in the forward pass) and returns the gaps, taken against the
   * moving statistics before the update without their warm-up (`warmupKeep`); NaN before any update.
   */
  batchNormGaps(input: tf.Tensor, layer: BatchNormState): { after(): { meanGap: Lazy; varGap: Lazy } };
  scalar(x: tf.Tensor): Lazy;
  /** Completes all measurements (the device meter's single read) and frees what it kept. */
  finish(): void;
  /** Frees what it kept without reading (a failed step). */
  discard(): void;
}

const constant =
  (v: number): Lazy =>
  () =>
    v;
/** Getters for values known now (a plain loop: entries/fromEntries was the host meter's top cost in JS). */
function lazies<T extends object>(values: T): Lazies<T> {
  const out: Record<string, Lazy> = {};
  for (const key in values) out[key] = constant(values[key] as number);
  return out as Lazies<T>;
}

type View = (t: tf.Tensor) => Float32Array;

/** What the meters need of a BatchNormalization layer; `read()` gives the current moving value. */
export interface BatchNormState {
  axis: number;
  momentum: number;
  /** The layer's ε: BN divides by √(σ² + ε), so variance differences well below it do not change its output. */
  epsilon: number;
  movingMean: { read(): tf.Tensor };
  movingVariance: { read(): tf.Tensor };
  /** The moving statistics when measuring began, and the training calls that have updated them since (./hooks). */
  initial: MovingStats;
  updates: number;
}

/**
 * The weight the initial moving statistics still have before this call's update, momentum^updates (see
 * ../stats/scan `withoutWarmup`); null before any update (the averages hold no batch yet), 0 where they never
 * move (momentum 1: their initial values are what inference uses, so that is the gap to show).
 */
export function warmupKeep(bn: BatchNormState): number | null {
  if (bn.updates === 0) return null;
  return bn.momentum > 0 && bn.momentum < 1 ? Math.pow(bn.momentum, bn.updates) : 0;
}

const NO_GAPS = { meanGap: constant(NaN), varGap: constant(NaN) };

/** A zero-copy view of a float32 tensor's memory on the current backend, or null if it has none. */
export function viewFor(backendName: string): View | null {
  const backend = tf.backend() as unknown as {
    data?: { get(id: object): { values?: Float32Array } };
    typedArrayFromHeap?: (info: { shape: number[]; dtype: string; dataId: object }) => Float32Array;
    wasm?: { asm?: { memory?: unknown } };
  };
  if (backendName === 'cpu' && backend.data) {
    return (t) => backend.data!.get(t.dataId).values ?? (t.dataSync() as Float32Array);
  }
  if (backendName === 'wasm' && backend.typedArrayFromHeap) {
    // The heap itself, so that the biggest scans run as SIMD where the tensors are (../stats/simd).
    if (backend.wasm?.asm?.memory instanceof WebAssembly.Memory) attachMemory(backend.wasm.asm.memory);
    // Valid until the wasm heap grows: each view is used at once, never stored.
    return (t) => backend.typedArrayFromHeap!(t);
  }
  return null;
}

/**
 * ‖W‖² of weights measured after the last update, by buffer: while a variable still holds that
 * buffer (no update since), the next step's ‖W_before‖² is known without another pass.
 */
const knownSquaredNorms = new WeakMap<object, number>();

export class HostMeter implements Meter {
  readonly immediate = true;
  /** The step's snapshots, freed by `finish` (or `discard`). */
  private readonly snapshots: tf.Tensor[] = [];

  constructor(private readonly view: View) {}

  activation(x: tf.Tensor, countDead: boolean, saturating: 'tanh' | 'sigmoid' | null): Lazies<ActivationScan> {
    const channels = x.shape[x.rank - 1] ?? 1;
    const threshold = saturating === 'sigmoid' ? SIGMOID_SATURATION : TANH_SATURATION;
    return lazies(scanActivation(this.view(x), channels, countDead, saturating, threshold));
  }
  moments(x: tf.Tensor) {
    return lazies(scanMoments(this.view(x)));
  }
  squaredNorm(x: tf.Tensor) {
    return constant(knownSquaredNorms.get(x.dataId) ?? scanSquaredNorm(this.view(x)));
  }
  /**
   * No copy: a second tensor on x's buffer (reshape shares it on every backend). tfjs never
   * writes a buffer in place — the optimizer assigns the variable a new one — so this buffer
   * keeps the values from before the update, for as long as the snapshot holds it.
   */
  snapshot(x: tf.Tensor): Snapshot {
    const same = tf.keep(tf.reshape(x, x.shape));
    this.snapshots.push(same);
    return same;
  }
  squaredDistance(x: tf.Tensor, before: Snapshot) {
    const { distance, squaredNorm: after } = scanSquaredDistance(this.view(x), this.view(before));
    knownSquaredNorms.set(x.dataId, after);
    return constant(distance);
  }
  vector(x: tf.Tensor) {
    return lazies(scanVector(this.view(x)));
  }
  batchNormGaps(input: tf.Tensor, bn: BatchNormState) {
    const keep = warmupKeep(bn);
    if (keep === null) return { after: () => NO_GAPS };
    const before = { mean: this.view(bn.movingMean.read()).slice(), variance: this.view(bn.movingVariance.read()).slice() };
    const reference = withoutWarmup(before, bn.initial, keep);
    if (bn.momentum >= MAX_DERIVED_MOMENTUM) {
      const gaps = lazies(scanBatchNormGaps(this.view(input), input.shape, bn.axis, reference.mean, reference.variance, bn.epsilon));
      return { after: () => gaps };
    }
    // O(channels): derived from the moving averages' update (see ../stats/scan).
    return {
      after: () => {
        const after = { mean: this.view(bn.movingMean.read()), variance: this.view(bn.movingVariance.read()) };
        return lazies(batchNormGapsFromUpdate(before, after, bn.momentum, bn.epsilon, reference));
      },
    };
  }
  scalar(x: tf.Tensor) {
    return constant(this.view(x)[0]);
  }
  finish(): void {
    this.discard(); /* everything else was computed on the spot */
  }
  discard(): void {
    tf.dispose(this.snapshots);
    this.snapshots.length = 0;
  }
}

export class DeviceMeter implements Meter {
  readonly immediate = false;
  private readonly batch = new ReadBatch();
  private readonly owned: tf.Tensor[] = [];

  /** Runs `compute` in a tidy (the stat functions make intermediates), keeps and queues its scalars. */
  private queueAll(compute: () => tf.Tensor[]): Lazy[] {
    return tf.tidy(compute).map((t) => {
      this.owned.push(tf.keep(t)); // kept: this may run inside the gradient's own tidy scopes
      const slot = this.batch.add(t);
      return () => this.batch.value(slot);
    });
  }

  activation(x: tf.Tensor, countDead: boolean, saturating: 'tanh' | 'sigmoid' | null): Lazies<ActivationScan> {
    const [mean, variance, min, max, zeros, finite, ...optional] = this.queueAll(() => {
      const m = meanAndVariance(x);
      return [
        m.mean,
        m.variance,
        minValue(x),
        maxValue(x),
        zeroCount(x),
        finiteCount(x),
        ...(countDead ? [deadUnitCount(x)] : []),
        ...(saturating ? [saturatedCount(x, saturating)] : []),
      ];
    });
    return {
      mean,
      variance,
      min,
      max,
      zeros,
      finite,
      deadUnits: countDead ? optional[0] : constant(NaN),
      saturated: saturating ? optional[countDead ? 1 : 0] : constant(NaN),
    };
  }
  moments(x: tf.Tensor) {
    const [mean, variance] = this.queueAll(() => {
      const m = meanAndVariance(x);
      return [m.mean, m.variance];
    });
    return { mean, variance };
  }
  squaredNorm(x: tf.Tensor) {
    return this.queueAll(() => [squaredNorm(x)])[0];
  }
  snapshot(x: tf.Tensor): Snapshot {
    const copy = tf.keep(tf.clone(x)); // shares x's buffer until the optimizer assigns a new one
    this.owned.push(copy);
    return copy;
  }
  squaredDistance(x: tf.Tensor, before: Snapshot) {
    return this.queueAll(() => [squaredNorm(tf.sub(x, before))])[0];
  }
  vector(x: tf.Tensor) {
    const [mean, variance, min, max] = this.queueAll(() => {
      const g = gammaStats(x);
      return [g.mean, g.variance, g.min, g.max];
    });
    return { mean, variance, min, max };
  }
  batchNormGaps(input: tf.Tensor, bn: BatchNormState) {
    const keep = warmupKeep(bn);
    if (keep === null) return { after: () => NO_GAPS };
    const [meanGap, varGap] = this.queueAll(() => {
      const { mean, variance } = batchMoments(input, bn.axis);
      const reference = withoutWarmupOnDevice(bn, keep);
      return [movingMeanGap(reference.mean, mean, variance, bn.epsilon), movingVarGap(reference.variance, variance, bn.epsilon)];
    });
    return { after: () => ({ meanGap, varGap }) };
  }
  scalar(x: tf.Tensor) {
    return this.queueAll(() => [tf.clone(x)])[0];
  }
  finish(): void {
    try {
      this.batch.read();
    } finally {
      this.discard();
    }
  }
  discard(): void {
    tf.dispose(this.owned);
    this.owned.length = 0;
  }
}
