/**
 * Collects the scalar tensors of one step and reads them back from the device in a single
 * `dataSync`, so instrumentation costs one transfer per step however many layers there are.
 */
import * as tf from '@tensorflow/tfjs';

/** A scalar's position in the values read back; resolve it with `ReadBatch.value`. */
export type Slot = number;

export class ReadBatch {
  private readonly floats: tf.Tensor[] = [];
  private readonly ints: tf.Tensor[] = [];
  private data: Float32Array | null = null;

  /** Queues a scalar; int32 and bool counts are converted once, together, before the read. */
  add(scalar: tf.Tensor): Slot {
    if (scalar.dtype === 'float32') {
      this.floats.push(scalar);
      return this.floats.length - 1;
    }
    this.ints.push(scalar);
    return -this.ints.length; // negative: an int slot, placed after the floats
  }

  /** One read for everything queued. Tensors queued are not disposed here. */
  read(): void {
    if (!this.floats.length && !this.ints.length) {
      this.data = new Float32Array(0);
      return;
    }
    const parts: tf.Tensor[] = [];
    const result = tf.tidy(() => {
      if (this.floats.length) parts.push(tf.stack(this.floats));
      if (this.ints.length) parts.push(tf.cast(tf.stack(this.ints), 'float32'));
      return parts.length === 1 ? parts[0] : tf.concat(parts);
    });
    this.data = result.dataSync() as Float32Array;
    result.dispose();
  }

  value(slot: Slot | undefined): number {
    if (slot === undefined) return NaN;
    if (!this.data) throw new Error('ReadBatch.value called before read()');
    return slot >= 0 ? this.data[slot] : this.data[this.floats.length - slot - 1];
  }
}
