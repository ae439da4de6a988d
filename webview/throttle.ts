/**
 * Coalesces redraw requests: at most one run per `intervalMs` (≤ 30 redraws/s at 34 ms), and
 * a request made during the wait is never lost — the pending redraw always happens, so the
 * last samples of a run are drawn. Data is stored on arrival; only drawing is throttled.
 */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

export class Throttle {
  private last = -Infinity;
  private timer: unknown = undefined;

  constructor(
    private readonly run: () => void,
    private readonly intervalMs: number,
    private readonly clock: Clock = realClock,
  ) {}

  /** Ask for a run; it happens as soon as the interval since the previous run allows. */
  request(): void {
    if (this.timer !== undefined) return;
    const wait = Math.max(0, this.last + this.intervalMs - this.clock.now());
    this.timer = this.clock.setTimeout(() => this.fire(), wait);
  }

  /** Run now if a run is pending (e.g. the run ended: draw the final state immediately). */
  flush(): void {
    if (this.timer === undefined) return;
    this.clock.clearTimeout(this.timer);
    this.fire();
  }

  get pending(): boolean {
    return this.timer !== undefined;
  }

  private fire(): void {
    this.timer = undefined;
    this.last = this.clock.now();
    this.run();
  }
}
