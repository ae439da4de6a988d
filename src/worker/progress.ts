/**
 * Batches step samples into few `progress` messages: the first sample goes out at once (so the
 * panel and the CLI show life quickly), later ones at most every FLUSH_MS, and everything left at
 * the end — no step is dropped. Findings are recomputed less often, as they scan every sample.
 */
import type { StepSample } from '../protocol';

export const FLUSH_MS = 50;
export const FINDINGS_MS = 500;

export class ProgressBatcher {
  private pending: StepSample[] = [];
  private lastFlush = -Infinity;
  private lastFindings = performance.now();

  constructor(
    private readonly send: (samples: StepSample[]) => void,
    private readonly updateFindings: () => void,
    private readonly now = () => performance.now(),
  ) {}

  add(sample: StepSample): void {
    this.pending.push(sample);
    if (this.now() - this.lastFlush >= FLUSH_MS) this.flush(false);
  }

  /** Sends what is pending; `final` also recomputes the findings unconditionally. */
  flush(final: boolean): void {
    const t = this.now();
    if (this.pending.length) {
      this.send(this.pending);
      this.pending = [];
    }
    this.lastFlush = t;
    if (final || t - this.lastFindings >= FINDINGS_MS) {
      this.lastFindings = t;
      this.updateFindings();
    }
  }
}
