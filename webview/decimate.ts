/**
 * Point decimation for long series: recent points stay exact, older ones are folded into
 * min/max buckets so spikes (an exploding layer) survive while the point count stays bounded.
 * Bucket edges sit at multiples of a power-of-two width, so already-drawn history does not
 * jitter as new steps arrive.
 */

/** A chart point in Chart.js's internal format (`parsing: false`); y null draws a gap. */
export interface XY {
  x: number;
  y: number | null;
}

export interface DecimateOptions {
  /** How many of the newest points are always kept exactly (default: a quarter of the budget). */
  keepRecent?: number;
  /** Treat values ≤ 0 as missing (for logarithmic axes). */
  positiveOnly?: boolean;
}

function usable(v: number, positiveOnly: boolean): boolean {
  return Number.isFinite(v) && (!positiveOnly || v > 0);
}

/** Resolved keepRecent for a budget (a quarter of it unless given; always leaves room for buckets). */
function recentFor(budget: number, options: DecimateOptions): number {
  if (!Number.isInteger(budget) || budget < 4) throw new RangeError(`decimateMinMax: budget must be an integer ≥ 4, got ${budget}`);
  return Math.min(Math.max(0, options.keepRecent ?? Math.floor(budget / 4)), budget - 2);
}

/** Smallest power-of-two bucket width (≥ 2) so that min/max buckets of the old part fit the budget. */
function bucketWidth(oldCount: number, slots: number): number {
  let width = 2;
  while (2 * Math.ceil(oldCount / width) > slots) width *= 2;
  return width;
}

/** Append the min and max of ys[start, end) in x order (one gap point when all are missing). */
function emitBucket(out: XY[], xs: ArrayLike<number>, ys: ArrayLike<number>, start: number, end: number, positiveOnly: boolean): void {
  let lo = -1;
  let hi = -1;
  for (let i = start; i < end; i++) {
    const v = ys[i];
    if (!usable(v, positiveOnly)) continue;
    if (lo < 0 || v < ys[lo]) lo = i;
    if (hi < 0 || v > ys[hi]) hi = i;
  }
  if (lo < 0) out.push({ x: xs[start], y: null });
  else if (lo === hi) out.push({ x: xs[lo], y: ys[lo] });
  else if (lo < hi) out.push({ x: xs[lo], y: ys[lo] }, { x: xs[hi], y: ys[hi] });
  else out.push({ x: xs[hi], y: ys[hi] }, { x: xs[lo], y: ys[lo] });
}

function pushRaw(out: XY[], xs: ArrayLike<number>, ys: ArrayLike<number>, from: number, to: number, positiveOnly: boolean): void {
  for (let i = from; i < to; i++) out.push({ x: xs[i], y: usable(ys[i], positiveOnly) ? ys[i] : null });
}

/**
 * Decimate the first `n` points of (xs, ys) to at most `budget` points.
 * Non-finite values become gaps (y null).
 */
export function decimateMinMax(
  xs: ArrayLike<number>,
  ys: ArrayLike<number>,
  n: number,
  budget: number,
  options: DecimateOptions = {},
): XY[] {
  return new IncrementalDecimator().decimate(xs, ys, n, budget, options);
}

/**
 * `decimateMinMax` for a series that only grows: complete buckets are computed once and kept,
 * so a redraw only reads the new points. Call `reset()` (or change `epoch`) when earlier values change.
 */
export class IncrementalDecimator {
  private key = '';
  private done = 0;
  private cached: XY[] = [];
  /** Counts cache resets, so a caller caching derived data (a path) knows when to rebuild it. */
  resets = 0;
  /** How many leading points of the last result come from the cache (and will not change). */
  stableCount = 0;

  reset(): void {
    this.resets++;
    this.key = '';
    this.done = 0;
    this.cached = [];
  }

  decimate(
    xs: ArrayLike<number>,
    ys: ArrayLike<number>,
    n: number,
    budget: number,
    options: DecimateOptions = {},
    epoch: unknown = 0,
  ): XY[] {
    const positiveOnly = options.positiveOnly ?? false;
    const keepRecent = recentFor(budget, options);
    const out: XY[] = [];
    this.stableCount = 0;
    if (n <= budget) {
      pushRaw(out, xs, ys, 0, n, positiveOnly);
      return out;
    }
    const oldCount = n - keepRecent;
    const width = bucketWidth(oldCount, budget - keepRecent);
    const key = `${String(epoch)}|${width}|${positiveOnly}`;
    if (key !== this.key || this.done > oldCount) {
      this.reset();
      this.key = key;
    }
    const completeEnd = Math.floor(oldCount / width) * width;
    for (let start = this.done; start < completeEnd; start += width) emitBucket(this.cached, xs, ys, start, start + width, positiveOnly);
    this.done = Math.max(this.done, completeEnd);
    for (const p of this.cached) out.push(p);
    this.stableCount = this.cached.length;
    if (completeEnd < oldCount) emitBucket(out, xs, ys, completeEnd, oldCount, positiveOnly);
    pushRaw(out, xs, ys, oldCount, n, positiveOnly);
    return out;
  }
}

/** Points per series so that a chart with `seriesCount` lines draws about `chartBudget` points. */
export function pointsPerSeries(chartBudget: number, seriesCount: number, min = 32, max = 2000): number {
  if (seriesCount <= 0) return max;
  return Math.max(min, Math.min(max, Math.floor(chartBudget / seriesCount)));
}
