/**
 * Range facts about stored series (axis bounds, whether a log scale fits) and the axis choices made from them.
 * Pure, no DOM; the store keeps one range per statistic up to date as samples arrive.
 */
export type ScaleType = 'linear' | 'logarithmic';

/** Range facts about a set of series: axis bounds and whether a log scale fits. */
export interface ValueRange {
  min: number;
  max: number;
  minPositive: number;
  maxPositive: number;
  hasNegative: boolean;
  finiteCount: number;
}

export function emptyRange(): ValueRange {
  return { min: Infinity, max: -Infinity, minPositive: Infinity, maxPositive: -Infinity, hasNegative: false, finiteCount: 0 };
}

/** Widen `r` by one value (non-finite values are ignored). */
export function includeValue(r: ValueRange, v: number): void {
  if (!Number.isFinite(v)) return;
  r.finiteCount++;
  if (v < r.min) r.min = v;
  if (v > r.max) r.max = v;
  if (v < 0) r.hasNegative = true;
  else if (v > 0) {
    if (v < r.minPositive) r.minPositive = v;
    if (v > r.maxPositive) r.maxPositive = v;
  }
}

export function valueRange(seriesList: Iterable<ArrayLike<number>>): ValueRange {
  const r = emptyRange();
  for (const values of seriesList) for (let i = 0; i < values.length; i++) includeValue(r, values[i]);
  return r;
}

/**
 * Log scale when positive values span at least three decades (and none are negative).
 * Once logarithmic, stay so down to two decades, so the axis does not flip back and forth live.
 */
export function chooseScale(range: ValueRange, current: ScaleType = 'linear'): ScaleType {
  if (range.hasNegative || !(range.maxPositive > 0) || !Number.isFinite(range.minPositive)) return 'linear';
  const decades = Math.log10(range.maxPositive / range.minPositive);
  return decades >= (current === 'logarithmic' ? 2 : 3) ? 'logarithmic' : 'linear';
}

/**
 * Round an axis range outward to round numbers (decades on log axes), so a range that grows a
 * little during a run keeps the same axis — and the chart skips a layout pass.
 */
export function niceBounds(lo: number, hi: number, log: boolean): [number, number] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [lo, hi];
  if (log && lo > 0 && hi > 0) return [10 ** Math.floor(Math.log10(lo)), 10 ** Math.ceil(Math.log10(hi) + (hi === lo ? 1 : 0))];
  if (hi <= lo) return [lo - Math.max(1, Math.abs(lo) * 0.1), hi + Math.max(1, Math.abs(hi) * 0.1)];
  const step = 10 ** Math.floor(Math.log10(hi - lo));
  return [Math.floor(lo / step) * step, Math.ceil(hi / step) * step];
}
