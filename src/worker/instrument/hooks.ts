/**
 * The dynamic side of instrumentation: each measured layer's `call` is wrapped so that, during an
 * instrumented step only, its output is measured (by a host meter at once, else kept for the
 * device meter to measure after the step) and ∂loss/∂output is measured when
 * backprop reaches it (by wrapping the gradient of the kernel that made the output, or else by
 * passing it through an identity with a custom gradient). What can only be seen
 * mid-step (the gradient, BatchNorm's moving statistics before their update, a raw input) is
 * measured on the spot by the step's Meter; the rest by ./collect after the step. Plain steps run
 * the original `call` with one extra branch.
 */
import * as tf from '@tensorflow/tfjs';
import type { ActivationScan } from '../stats/scan';
import type { Lazies, Lazy, Meter } from './meters';
import type { LayerProbe } from './probes';

/** Where a layer's input came from: a measured layer's output, or measured on the spot (e.g. the model input). */
export type InputRef = { layer: number } | { raw: { size: number; mean: Lazy; variance: Lazy } } | null;

export interface LayerRecord {
  /** The output, kept to the step's end for a meter that measures after the step; else null. */
  output: tf.Tensor | null;
  /** Its statistics, when the meter measured it as it was produced (an immediate meter). */
  activation: Lazies<ActivationScan> | null;
  size: number;
  /** Size of the output's last axis (units or channels). */
  channels: number;
  inputs: InputRef[];
  /** ‖∂loss/∂output‖² per use of the layer (summed: the gradient of a reused output adds up). */
  gradSquared: Lazy[];
  /** BatchNorm in training mode: moving statistics before this step's update vs. this batch, and the updates of
   *  the moving statistics so far (this one included). */
  gaps?: { meanGap: Lazy; varGap: Lazy; updates: number };
}

/** What one instrumented step saw; outputs kept for measuring are kept until `dispose`. */
export class StepRecording {
  readonly layers = new Map<number, LayerRecord>();
  /** Tensor id of a hooked output → the layer that made it. */
  readonly producedBy = new Map<number, number>();
  /** Layer whose forward threw, or whose gradient ran last (backprop goes from the top down). */
  forwardLayer: number | null = null;
  backwardLayer: number | null = null;
  private readonly kept: tf.Tensor[] = [];

  constructor(readonly meter: Meter) {}

  keep<T extends tf.Tensor>(t: T): T {
    this.kept.push(tf.keep(t));
    return t;
  }

  dispose(): void {
    tf.dispose(this.kept);
    this.kept.length = 0;
  }
}

type CallFn = (inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>) => tf.Tensor | tf.Tensor[];

export class Instrumenter {
  private recording: StepRecording | null = null;
  private readonly restores: (() => void)[] = [];

  constructor(probes: LayerProbe[]) {
    probes.forEach((probe, index) => this.wrap(probe, index));
  }

  /** Starts recording; layers called until `end()` are measured with `meter`. */
  begin(meter: Meter): StepRecording {
    this.recording = new StepRecording(meter);
    return this.recording;
  }

  end(): void {
    this.recording = null;
  }

  /** Puts the original `call` methods back (the model may outlive the run in tests). */
  restore(): void {
    this.restores.splice(0).forEach((undo) => undo());
  }

  private wrap(probe: LayerProbe, index: number): void {
    const layer = probe.layer as unknown as { call: CallFn };
    const hadOwn = Object.prototype.hasOwnProperty.call(layer, 'call');
    const original = layer.call;
    const hook = tf.customGrad(((x: tf.Tensor) => ({
      // A new tensor on x's memory: reshape shares the buffer on every backend, while clone
      // (Identity) copies the whole output on wasm.
      value: tf.reshape(x, x.shape),
      gradFunc: (dy: tf.Tensor) => {
        observe(dy);
        return dy;
      },
    })) as unknown as Parameters<typeof tf.customGrad>[0]);
    const observe = (dy: tf.Tensor) => {
      const rec = this.recording;
      const record = rec?.layers.get(index);
      if (rec && record) {
        rec.backwardLayer = index;
        record.gradSquared.push(rec.meter.squaredNorm(dy));
      }
    };
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the wrapper below needs its own `this` (the layer)
    const self = this;
    layer.call = function instrumentedCall(this: unknown, inputs, kwargs) {
      const rec = self.recording;
      // Every training call moves a BatchNorm's moving averages; their warm-up is judged by the count.
      const updating = probe.batchNorm && kwargs?.training ? probe.batchNorm : null;
      if (!rec) {
        const out = original.call(this, inputs, kwargs);
        if (updating) updating.updates++;
        return out;
      }
      const inputList = Array.isArray(inputs) ? inputs : [inputs];
      rec.forwardLayer = index;
      const bn = updating ? rec.meter.batchNormGaps(inputList[0], updating) : null;
      const out = original.call(this, inputs, kwargs);
      const gaps = bn && updating ? { ...bn.after(), updates: ++updating.updates } : undefined;
      rec.forwardLayer = null;
      const first = Array.isArray(out) ? out[0] : out;
      if (first.dtype !== 'float32') return out;
      const hooked = inputList.includes(first) || !observeGradient(first, observe) ? (hook(first) as tf.Tensor) : first;
      const immediate = rec.meter.immediate;
      rec.layers.set(index, {
        output: immediate ? null : rec.keep(hooked),
        activation: immediate ? rec.meter.activation(hooked, probe.reluLike, probe.saturating) : null,
        size: hooked.size,
        channels: hooked.shape[hooked.rank - 1] ?? 1,
        inputs: inputList.map((t) => inputRef(t, rec)),
        gradSquared: [],
        gaps,
      });
      rec.producedBy.set(hooked.id, index);
      if (hooked === first) return out;
      return Array.isArray(out) ? [hooked, ...out.slice(1)] : hooked;
    };
    this.restores.push(() => {
      if (hadOwn) layer.call = original;
      else delete (layer as { call?: CallFn }).call;
    });
  }
}

/** A node of the engine's gradient tape (tfjs internals): one per kernel run under a gradient. */
interface TapeNode {
  outputs: tf.Tensor[];
  gradient?: (dys: (tf.Tensor | null)[]) => unknown;
}

/**
 * Has `observe` called with ∂loss/∂t when backprop reaches t, by wrapping the gradient of the
 * tape node (the kernel) that produced t: no extra kernel or tape node, unlike a customGrad
 * identity (the fallback in `wrap`, ~40 µs per layer and step). False when t has no such node.
 */
function observeGradient(t: tf.Tensor, observe: (dy: tf.Tensor) => void): boolean {
  const tape = (tf.engine() as unknown as { state: { activeTape: TapeNode[] | null } }).state.activeTape;
  if (!tape) return false;
  for (let i = tape.length - 1; i >= 0; i--) {
    const node = tape[i];
    const at = node.outputs.indexOf(t);
    if (at < 0) continue;
    const gradient = node.gradient;
    if (!gradient) return false;
    // A null dy: t does not reach the loss (the engine passes zeros on), as if the hook never ran.
    node.gradient = (dys) => {
      if (dys[at]) observe(dys[at]!);
      return gradient(dys);
    };
    return true;
  }
  return false;
}

function inputRef(t: tf.Tensor, rec: StepRecording): InputRef {
  const producer = rec.producedBy.get(t.id);
  if (producer !== undefined) return { layer: producer };
  return t.dtype === 'float32' ? { raw: { size: t.size, ...rec.meter.moments(t) } } : null;
}
