/**
 * Point decimation for long series: recent points stay exact, older ones are folded into
 * min/max buckets so spikes (an exploding layer) survive while the point count stays bounded.
 * Bucket edges sit at multiples of a power-of-two width, so already-drawn history does not
 * jitter as new steps arrive.
 */

/** A chart point in Chart.js's internal format (`parsing: false`); y null draws a gap. */
export interface XY { x: number; y: number | null }

export interface DecimateOptions {
  /** How many of the newest points are always kept exactly (default: a quarter of the budget). */
  keepRecent?: number;
  /** Treat values ≤ 0 as missing (for logarithmic axes). */
  positiveOnly?: boolean;
}

function usable(v: number, positiveOnly: boolean): boolean {
  return Number.isFinite(v) && (!positiveOnly || v > 0);
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
  if (!Number.isInteger(budget) || budget < 4) throw new RangeError(`decimateMinMax: budget must be an integer ≥ 4, got ${budget}`);
  const positiveOnly = options.positiveOnly ?? false;
  const out: XY[] = [];
  const point = (i: number): XY => ({ x: xs[i], y: usable(ys[i], positiveOnly) ? ys[i] : null });
  if (n <= budget) {
    for (let i = 0; i < n; i++) out.push(point(i));
    return out;
  }
  const keepRecent = Math.min(Math.max(0, options.keepRecent ?? Math.floor(budget / 4)), budget - 2);
  const oldCount = n - keepRecent;
  const bucketSlots = budget - keepRecent;
  // Each bucket emits up to two points; widen buckets (by powers of two) until the old part fits.
  let width = 2;
  while (2 * Math.ceil(oldCount / width) > bucketSlots) width *= 2;
  for (let start = 0; start < oldCount; start += width) {
    const end = Math.min(start + width, oldCount);
    let lo = -1;
    let hi = -1;
    for (let i = start; i < end; i++) {
      const v = ys[i];
      if (!usable(v, positiveOnly)) continue;
      if (lo < 0 || v < ys[lo]) lo = i;
      if (hi < 0 || v > ys[hi]) hi = i;
    }
    if (lo < 0) out.push({ x: xs[start], y: null });
    else if (lo === hi) out.push(point(lo));
    else if (lo < hi) out.push(point(lo), point(hi));
    else out.push(point(hi), point(lo));
  }
  for (let i = oldCount; i < n; i++) out.push(point(i));
  return out;
}

/** Points per series so that a chart with `seriesCount` lines draws about `chartBudget` points. */
export function pointsPerSeries(chartBudget: number, seriesCount: number, min = 32, max = 2000): number {
  if (seriesCount <= 0) return max;
  return Math.max(min, Math.min(max, Math.floor(chartBudget / seriesCount)));
}
