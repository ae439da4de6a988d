/**
 * Shaping stored columns into what charts draw: per-layer colours, heatmap cells and depth-profile bars
 * (axis ranges and scale choice are in valueRange.ts). Pure functions, no DOM.
 */
import type { Finding, Severity, StatName } from '../src/protocol';
import type { RunStore } from './store';

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
