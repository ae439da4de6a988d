/**
 * Streaming line drawing for charts with hundreds of series. Each series is decimated
 * incrementally (complete buckets never change); those stable segments are drawn once onto an
 * offscreen layer and kept while the axes stay the same, so a redraw only adds the newly
 * completed segments, blits the layer and strokes the short recent tails — grouped by style, so
 * 200 layers cost a few dozen canvas calls, not 200 full paths.
 */
import type { Chart, Scale } from 'chart.js';
import { IncrementalDecimator, type XY } from './decimate';

/** Pixel = a·v + b along one axis (v = value, or log10 of it on log axes). */
export interface AxisMap {
  a: number;
  b: number;
  log: boolean;
}

export function axisMap(scale: Scale): AxisMap | null {
  const log = scale.type === 'logarithmic';
  const lo = scale.min;
  const hi = scale.max;
  if (!(hi > lo) || (log && !(lo > 0))) return null;
  const p0 = scale.getPixelForValue(lo);
  const p1 = scale.getPixelForValue(hi);
  const v0 = log ? Math.log10(lo) : lo;
  const v1 = log ? Math.log10(hi) : hi;
  const a = (p1 - p0) / (v1 - v0);
  return { a, b: p0 - v0 * a, log };
}

/** Lines at the very edge of the axis range (e.g. a dead fraction of 1) stay whole: clip a bit outside. */
const CLIP_MARGIN = 3;

const px = (m: AxisMap, v: number) => m.a * (m.log ? Math.log10(v) : v) + m.b;

/** One series: its decimator and the points of the last update. */
export class SeriesPoints {
  readonly decimator = new IncrementalDecimator();
  points: XY[] = [];
  stable = 0;

  update(xs: ArrayLike<number>, ys: ArrayLike<number>, n: number, budget: number, log: boolean, epoch: unknown, keepRecent?: number): void {
    this.points = this.decimator.decimate(xs, ys, n, budget, { positiveOnly: log, keepRecent }, epoch);
    this.stable = this.decimator.stableCount;
  }
}

export interface StyledSeries {
  data: SeriesPoints;
  color: string;
  width: number;
}

/** Add points[from..to) to a path in pixels, continuing from points[from - 1] when it exists. */
function trace(path: Path2D, points: XY[], from: number, to: number, x: AxisMap, y: AxisMap): void {
  let pen = false;
  for (let i = Math.max(0, from - 1); i < to; i++) {
    const p = points[i];
    if (p.y === null) {
      pen = false;
      continue;
    }
    const X = px(x, p.x);
    const Y = px(y, p.y);
    if (pen) path.lineTo(X, Y);
    else {
      path.moveTo(X, Y);
      pen = true;
    }
  }
}

/** Stroke one path per style (thin lines first, emphasised ones on top). */
function strokeGroups(ctx: CanvasRenderingContext2D, groups: Map<string, { path: Path2D; color: string; width: number }>): void {
  for (const g of [...groups.values()].sort((a, b) => a.width - b.width)) {
    ctx.strokeStyle = g.color;
    ctx.lineWidth = g.width;
    ctx.stroke(g.path);
  }
}

function group(groups: Map<string, { path: Path2D; color: string; width: number }>, s: StyledSeries): Path2D {
  const key = `${s.color}|${s.width}`;
  let g = groups.get(key);
  if (!g) groups.set(key, (g = { path: new Path2D(), color: s.color, width: s.width }));
  return g.path;
}

export class LinesRenderer {
  /** Thin lines and emphasised (thicker) lines on separate layers, so emphasis stays on top. */
  private readonly layers = [document.createElement('canvas'), document.createElement('canvas')];
  private key = '';
  private drawn = new Map<SeriesPoints, { upTo: number; resets: number }>();

  /** Draw all series into the chart area (call from a Chart.js afterDatasetsDraw hook). */
  draw(chart: Chart, series: readonly StyledSeries[], hovered: StyledSeries | undefined): void {
    const x = axisMap(chart.scales.x);
    const y = axisMap(chart.scales.y);
    if (!x || !y) return;
    const minWidth = Math.min(...series.map((s) => s.width));
    this.resetIfChanged(chart, series, x, y);
    this.drawStable(chart, series, minWidth, x, y);
    // Layers, then the recent tails (and the hovered line) on the chart itself.
    const ctx = chart.ctx;
    const tails = [newGroups(), newGroups()];
    for (const s of series) trace(group(tails[s.width > minWidth ? 1 : 0], s), s.data.points, s.data.stable, s.data.points.length, x, y);
    ctx.save();
    clipToArea(ctx, chart.chartArea);
    for (let i = 0; i < 2; i++) {
      ctx.save();
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.drawImage(this.layers[i], 0, 0);
      ctx.restore();
      strokeGroups(ctx, tails[i]);
    }
    if (hovered) {
      const path = new Path2D();
      trace(path, hovered.data.points, 0, hovered.data.points.length, x, y);
      ctx.strokeStyle = hovered.color;
      ctx.lineWidth = hovered.width + 2;
      ctx.stroke(path);
    }
    ctx.restore();
  }

  /** Clears the layers when the axes, the canvas or the series changed, or a series was decimated anew. */
  private resetIfChanged(chart: Chart, series: readonly StyledSeries[], x: AxisMap, y: AxisMap): void {
    const canvas = chart.canvas;
    const dims = [x.a, x.b, y.a, y.b, x.log, y.log, canvas.width, canvas.height, chart.currentDevicePixelRatio, series.length];
    const key = [...dims, ...series.map((s) => `${s.color}${s.width}`)].join('|');
    const reset =
      key !== this.key || series.some((s) => (this.drawn.get(s.data)?.resets ?? s.data.decimator.resets) !== s.data.decimator.resets);
    if (!reset) return;
    this.key = key;
    this.drawn = new Map();
    for (const layer of this.layers) {
      layer.width = canvas.width;
      layer.height = canvas.height;
    }
  }

  /** New stable segments onto the layers (thin ones, emphasised ones). */
  private drawStable(chart: Chart, series: readonly StyledSeries[], minWidth: number, x: AxisMap, y: AxisMap): void {
    const fresh = [newGroups(), newGroups()];
    for (const s of series) {
      const state = this.drawn.get(s.data) ?? { upTo: 0, resets: s.data.decimator.resets };
      if (state.upTo < s.data.stable) trace(group(fresh[s.width > minWidth ? 1 : 0], s), s.data.points, state.upTo, s.data.stable, x, y);
      this.drawn.set(s.data, { upTo: s.data.stable, resets: s.data.decimator.resets });
    }
    this.layers.forEach((layer, i) => {
      const lctx = layer.getContext('2d');
      if (!lctx || fresh[i].size === 0) return;
      lctx.save();
      lctx.setTransform(chart.currentDevicePixelRatio, 0, 0, chart.currentDevicePixelRatio, 0, 0);
      clipToArea(lctx, chart.chartArea);
      strokeGroups(lctx, fresh[i]);
      lctx.restore();
    });
  }
}

type Groups = Map<string, { path: Path2D; color: string; width: number }>;

function newGroups(): Groups {
  return new Map();
}

/** Clips to the chart area (a margin wide, so a line's cap at the edge is whole) and rounds line joins. */
function clipToArea(ctx: CanvasRenderingContext2D, area: { left: number; top: number; right: number; bottom: number }): void {
  ctx.beginPath();
  ctx.rect(
    area.left - CLIP_MARGIN,
    area.top - CLIP_MARGIN,
    area.right - area.left + 2 * CLIP_MARGIN,
    area.bottom - area.top + 2 * CLIP_MARGIN,
  );
  ctx.clip();
  ctx.lineJoin = 'round';
}
