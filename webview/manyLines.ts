/**
 * A line chart for hundreds of series (one per layer). Chart.js draws the axes, grid and titles,
 * but its per-dataset cost (options resolution, one element per point) makes 200 datasets take
 * hundreds of milliseconds per update. So the lines are stroked by a plugin straight onto the
 * chart's canvas through Chart.js's own scales, and hover/click hit-testing is done here.
 */
import type { Chart, Plugin } from 'chart.js';
import { setScaleType, createLineChart, type LineChart } from './charts';
import type { ChartCard } from './card';
import { decimateMinMax, pointsPerSeries, type XY } from './decimate';
import { el, formatValue } from './dom';
import { chooseScale, valueRange, type ScaleType } from './series';
import type { Theme } from './theme';

export interface ManySeriesInput { tag: number; label: string; color: string; width: number; ys: ArrayLike<number> }
interface DrawnSeries { tag: number; label: string; color: string; width: number; points: XY[] }

/** Points one chart strokes per redraw, split across its series. */
export const MANY_LINES_POINT_BUDGET = 30_000;
const HIT_PIXELS = 10;

export class ManyLinesChart {
  readonly chart: LineChart;
  private series: DrawnSeries[] = [];
  private hovered = -1;
  private readonly tooltip: HTMLElement;

  constructor(private readonly card: ChartCard, theme: Theme, options: { yTitle: string; onPick: (tag: number) => void }) {
    this.chart = createLineChart(card.canvas, theme, { xTitle: 'step', yTitle: options.yTitle });
    this.chart.config.plugins.push(this.linesPlugin());
    const tooltipOptions = this.chart.options.plugins?.tooltip;
    if (tooltipOptions) tooltipOptions.enabled = false;
    this.chart.options.events = [];
    this.tooltip = el('div', { className: 'chart-tooltip', testId: `tooltip-${card.id}`, attrs: { role: 'status' } });
    this.tooltip.hidden = true;
    card.box.appendChild(this.tooltip);
    const canvas = card.canvas;
    canvas.addEventListener('mousemove', (e) => this.hover(e.offsetX, e.offsetY));
    canvas.addEventListener('mouseleave', () => this.setHovered(-1, 0, 0));
    canvas.addEventListener('click', (e) => {
      const hit = this.hitTest(e.offsetX, e.offsetY);
      if (hit) options.onPick(this.series[hit.series].tag);
    });
  }

  /** Replace all series (sharing the first `n` entries of one x array; each ys has length n) and redraw. */
  setData(xs: ArrayLike<number>, n: number, inputs: readonly ManySeriesInput[]): void {
    const y = this.chart.options.scales!.y as { type?: ScaleType; suggestedMin?: number; suggestedMax?: number };
    const range = valueRange(inputs.map((s) => s.ys));
    const scale = chooseScale(range, y.type ?? 'linear');
    setScaleType(this.chart, 'y', scale);
    const budget = pointsPerSeries(MANY_LINES_POINT_BUDGET, inputs.length, 16);
    this.series = inputs.map((s) => ({
      tag: s.tag, label: s.label, color: s.color, width: s.width,
      points: decimateMinMax(xs, s.ys, n, budget, { positiveOnly: scale === 'logarithmic' }),
    }));
    // Thick (flagged) lines last, so they are drawn on top.
    this.series.sort((a, b) => a.width - b.width);
    this.hovered = -1;
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < inputs.length; i++) {
      const ys = inputs[i].ys;
      for (let k = 0; k < n; k++) {
        const v = ys[k];
        if (!Number.isFinite(v) || (scale === 'logarithmic' && v <= 0)) continue;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
    }
    y.suggestedMin = Number.isFinite(lo) ? lo : undefined;
    y.suggestedMax = Number.isFinite(hi) ? (hi > lo ? hi : lo + Math.max(1, Math.abs(lo))) : undefined;
    const x = this.chart.options.scales!.x as { min?: number; max?: number };
    x.min = n > 0 ? xs[0] : undefined;
    x.max = n > 0 ? Math.max(xs[n - 1], xs[0] + 1) : undefined;
    const t0 = performance.now();
    this.chart.update('none');
    performance.measure('dbg:chartupdate', { start: t0, end: performance.now() });
  }

  destroy(): void {
    this.chart.destroy();
    this.tooltip.remove();
  }

  private linesPlugin(): Plugin<'line'> {
    return {
      id: 'normscopeManyLines',
      afterDatasetsDraw: (chart) => {
        const t0 = performance.now();
        queueMicrotask(() => performance.measure('dbg:stroke', { start: t0, end: performance.now() }));
        const ctx = chart.ctx;
        const area = chart.chartArea;
        ctx.save();
        ctx.beginPath();
        ctx.rect(area.left, area.top, area.right - area.left, area.bottom - area.top);
        ctx.clip();
        ctx.lineJoin = 'round';
        this.series.forEach((s, i) => { if (i !== this.hovered) this.stroke(chart, s, s.width); });
        if (this.hovered >= 0) this.stroke(chart, this.series[this.hovered], this.series[this.hovered].width + 2);
        ctx.restore();
      },
    };
  }

  private stroke(chart: Chart, s: DrawnSeries, width: number): void {
    const ctx = chart.ctx;
    const xScale = chart.scales.x;
    const yScale = chart.scales.y;
    ctx.beginPath();
    let pen = false;
    for (const p of s.points) {
      if (p.y === null) { pen = false; continue; }
      const px = xScale.getPixelForValue(p.x);
      const py = yScale.getPixelForValue(p.y);
      if (pen) ctx.lineTo(px, py);
      else { ctx.moveTo(px, py); pen = true; }
    }
    ctx.strokeStyle = s.color;
    ctx.lineWidth = width;
    ctx.stroke();
  }

  /** The series whose line passes closest to (px, py), within a few pixels. */
  private hitTest(px: number, py: number): { series: number; point: XY } | null {
    const xScale = this.chart.scales.x;
    const yScale = this.chart.scales.y;
    if (!xScale || !yScale) return null;
    const x = xScale.getValueForPixel(px);
    if (x === undefined || !Number.isFinite(x)) return null;
    let best: { series: number; point: XY } | null = null;
    let bestDistance = HIT_PIXELS;
    this.series.forEach((s, i) => {
      const p = nearestByX(s.points, x);
      if (!p || p.y === null) return;
      const d = Math.hypot(xScale.getPixelForValue(p.x) - px, yScale.getPixelForValue(p.y) - py);
      if (d < bestDistance) { bestDistance = d; best = { series: i, point: p }; }
    });
    return best;
  }

  private hover(px: number, py: number): void {
    const hit = this.hitTest(px, py);
    if (!hit) { this.setHovered(-1, 0, 0); return; }
    const s = this.series[hit.series];
    this.tooltip.textContent = `${s.label} · step ${hit.point.x} · ${formatValue(hit.point.y)}`;
    this.setHovered(hit.series, px, py);
  }

  private setHovered(index: number, px: number, py: number): void {
    this.tooltip.hidden = index < 0;
    if (index >= 0) {
      this.tooltip.style.left = `${Math.min(px + 12, this.card.box.clientWidth - 220)}px`;
      this.tooltip.style.top = `${Math.max(0, py - 28)}px`;
    }
    if (index !== this.hovered) {
      this.hovered = index;
      this.chart.draw();
    }
  }
}

/** Binary search in x-sorted points for the one nearest to x. */
function nearestByX(points: XY[], x: number): XY | undefined {
  if (points.length === 0) return undefined;
  let lo = 0;
  let hi = points.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (points[mid].x < x) lo = mid;
    else hi = mid;
  }
  return Math.abs(points[lo].x - x) <= Math.abs(points[hi].x - x) ? points[lo] : points[hi];
}
