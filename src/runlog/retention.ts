/**
 * Which samples a run log keeps once they leave the recent window (docs/run-log.md "Retention"): every `stride`-th
 * by sequence number, and every one in a protected window (the run's start, around events). Windows share a budget:
 * one that does not fit evicts windows of lower priority (jumps and spikes give way to the detectors' conditions), the
 * latest first, so the earliest onsets, the likely causes, stay. The same bookkeeping as
 * python/normscope/runlog/policy.py's Retention; the writers double `stride` while the history is over budget.
 */
import { AFTER, BEFORE, START_SAMPLES } from './events';

export const DEFAULT_BUDGET_BYTES = 128 * 2 ** 20;

type Window = { lo: number; hi: number; priority: number };

export class Retention {
  readonly recentLimit: number;
  readonly segmentLimit: number;
  readonly protectLimit: number;
  readonly historyLimit: number;
  stride = 1;
  /** In order of admission. */
  private windows: Window[] = [];
  /** Their union with the run's start: sorted disjoint [starts[i], ends[i]]. */
  private starts: number[] = [];
  private ends: number[] = [];

  constructor(readonly budget: number) {
    this.recentLimit = Math.floor(budget / 4);
    this.segmentLimit = Math.max(1, Math.floor(this.recentLimit / 4));
    this.protectLimit = Math.floor(budget / 4);
    this.historyLimit = budget - this.recentLimit - 2 * this.segmentLimit; // recent: the window + a closed and an open segment
    this.merge();
  }

  /** Rebuilds the union; returns how many samples it protects. */
  private merge(): number {
    const spans = [[0, START_SAMPLES - 1], ...this.windows.map((w) => [w.lo, w.hi])].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    this.starts = [];
    this.ends = [];
    for (const [lo, hi] of spans) {
      const last = this.ends.length - 1;
      if (last >= 0 && lo <= this.ends[last] + 1) this.ends[last] = Math.max(this.ends[last], hi);
      else {
        this.starts.push(lo);
        this.ends.push(hi);
      }
    }
    return this.starts.reduce((sum, s, i) => sum + this.ends[i] - s + 1, 0);
  }

  /** Protects the window around sample `seq` if it fits, evicting lower-priority windows; true when protected. */
  protect(seq: number, recordBytes: number, priority: number): boolean {
    const lo = Math.max(0, seq - BEFORE);
    const hi = seq + AFTER;
    const same = this.windows.find((w) => w.lo === lo && w.hi === hi);
    if (same) {
      same.priority = Math.max(same.priority, priority); // several layers' events at one sample: one window
      return true;
    }
    const kept = this.windows;
    const order = kept
      .map((_, i) => i)
      .filter((i) => kept[i].priority < priority)
      .sort((a, b) => kept[a].priority - kept[b].priority || b - a);
    const evicted = new Set<number>();
    const added = { lo, hi, priority };
    this.windows = [...kept, added];
    while (this.merge() * recordBytes > this.protectLimit) {
      if (!order.length) {
        this.windows = kept;
        this.merge();
        return false;
      }
      evicted.add(order.shift()!);
      this.windows = [...kept.filter((_, i) => !evicted.has(i)), added];
    }
    return true;
  }

  isProtected(seq: number): boolean {
    let lo = 0;
    let hi = this.starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.starts[mid] <= seq) lo = mid + 1;
      else hi = mid;
    }
    return lo > 0 && seq <= this.ends[lo - 1];
  }

  keeps(seq: number, stride = this.stride): boolean {
    return seq % stride === 0 || this.isProtected(seq);
  }
}
