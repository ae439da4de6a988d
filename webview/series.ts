/**
 * Shaping stored columns into what charts draw: axis scale choice, per-layer colours,
 * heatmap cells and depth-profile bars. Pure functions, no DOM.
 */
import type { Finding, Severity, StatName } from '../src/protocol';
import type { RunStore } from './store';

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

/**
 * Colour of a layer's line: hue runs with depth (first layer blue, last red). Beyond 16 layers
 * the hue moves in 16 bands — indistinguishable to the eye, and lines of one colour are stroked
 * together (see linePaths.ts).
 */
export function layerColor(index: number, count: number, dark: boolean): string {
  const exact = count <= 1 ? 0 : index / (count - 1);
  const t = count > 16 ? Math.round(exact * 15) / 15 : exact;
  const hue = Math.round(220 - t * 220);
  return `hsl(${hue}, ${dark ? 70 : 65}%, ${dark ? 60 : 42}%)`;
}

const SEVERITY_RANK: Record<Severity, number> = { error: 3, warning: 2, info: 1 };

/** Worst finding per layer name, with every kind it was flagged for. */
export function findingsByLayer(findings: readonly Finding[]): Map<string, { severity: Severity; kinds: string[] }> {
  const out = new Map<string, { severity: Severity; kinds: string[] }>();
  for (const f of findings) {
    if (f.layer === null || f.layer === undefined) continue;
    const entry = out.get(f.layer);
    if (!entry) out.set(f.layer, { severity: f.severity, kinds: [f.kind] });
    else {
      if (SEVERITY_RANK[f.severity] > SEVERITY_RANK[entry.severity]) entry.severity = f.severity;
      if (!entry.kinds.includes(f.kind)) entry.kinds.push(f.kind);
    }
  }
  return out;
}

/** One bar of the depth profile. */
export interface DepthBar {
  layer: number;
  name: string;
  value: number | null;
  severity: Severity | null;
  kinds: string[];
}

/** Latest value of `stat` per layer in model order, with each layer's worst finding. */
export function depthProfile(store: RunStore, stat: StatName): DepthBar[] {
  const flagged = findingsByLayer(store.findings);
  return store.run.layers.map((info, layer) => {
    const v = store.latest(stat, layer);
    const flag = flagged.get(info.name);
    return { layer, name: info.name, value: Number.isFinite(v) ? v : null, severity: flag?.severity ?? null, kinds: flag?.kinds ?? [] };
  });
}

/** A heatmap: `rows` layers × `cols` step buckets, values row-major (NaN = no data). */
export interface HeatmapGrid {
  rows: number;
  cols: number;
  values: Float64Array;
  /** First step of each column. */
  colSteps: number[];
  min: number;
  max: number;
  /** Smallest value > 0 (Infinity if none): the bottom of a log colour scale. */
  minPositive: number;
}

/** Average each layer's series into at most `maxCols` equal step buckets. */
export function heatmapGrid(store: RunStore, stat: StatName, maxCols: number): HeatmapGrid {
  const rows = store.layerCount;
  const n = store.size;
  const cols = Math.min(n, Math.max(1, maxCols));
  const values = new Float64Array(rows * cols).fill(Number.NaN);
  const colSteps: number[] = [];
  for (let c = 0; c < cols; c++) colSteps.push(store.steps[Math.floor((c * n) / cols)]);
  let min = Infinity;
  let max = -Infinity;
  let minPositive = Infinity;
  for (let layer = 0; layer < rows; layer++) {
    const series = store.series(stat, layer);
    if (series.length === 0) continue;
    for (let c = 0; c < cols; c++) {
      const from = Math.floor((c * n) / cols);
      const to = Math.floor(((c + 1) * n) / cols);
      let sum = 0;
      let count = 0;
      for (let i = from; i < to; i++) {
        const v = series[i];
        if (Number.isFinite(v)) {
          sum += v;
          count++;
        }
      }
      if (count === 0) continue;
      const mean = sum / count;
      values[layer * cols + c] = mean;
      if (mean < min) min = mean;
      if (mean > max) max = mean;
      if (mean > 0 && mean < minPositive) minPositive = mean;
    }
  }
  return { rows, cols, values, colSteps, min, max, minPositive };
}

/** Viridis stops: readable on light and dark backgrounds and for colour-blind users. */
const VIRIDIS: [number, number, number][] = [
  [68, 1, 84],
  [59, 82, 139],
  [33, 145, 140],
  [94, 201, 98],
  [253, 231, 37],
];

/** Map t in [0, 1] to an RGB colour on the viridis ramp. */
export function rampColor(t: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x));
  const f = x - i;
  const a = VIRIDIS[i];
  const b = VIRIDIS[i + 1];
  return [0, 1, 2].map((k) => Math.round(a[k] + (b[k] - a[k]) * f)) as [number, number, number];
}

/**
 * Position of `v` in [0, 1] between min and max, on a log axis when `log` (then `min` must be > 0
 * and values ≤ 0, e.g. a zero gradient, sit at the bottom). NaN when v is missing.
 */
export function normalize(v: number, min: number, max: number, log: boolean): number {
  if (!Number.isFinite(v)) return Number.NaN;
  if (!(max > min)) return 0.5;
  if (log && v <= 0) return 0;
  const t = log ? Math.log(v / min) / Math.log(max / min) : (v - min) / (max - min);
  return Math.min(1, Math.max(0, t));
}
