/**
 * A line chart for hundreds of series (one per layer). Chart.js draws the axes, grid and titles,
 * but its per-dataset cost (options resolution, one element per point) made 200 datasets take
 * hundreds of milliseconds per update. So the lines are drawn by a plugin through Chart.js's own
 * scales (incrementally, see linePaths.ts), and hover/click hit-testing is done here.
 */
import type { Plugin } from 'chart.js';
import { applyTheme, setScaleType, createLineChart, type LineChart } from './charts';
import type { ChartCard } from './card';
import { pointsPerSeries, type XY } from './decimate';
import { LinesRenderer, SeriesPoints } from './linePaths';
import { el, formatValue, setChildren } from './dom';
import { chooseScale, niceBounds, valueRange, type ScaleType, type ValueRange } from './valueRange';
import type { Theme } from './theme';

export interface ManySeriesInput {
  tag: number;
  label: string;
  color: string;
  width: number;
  ys: ArrayLike<number>;
}
interface DrawnSeries {
  tag: number;
  label: string;
  color: string;
  width: number;
  data: SeriesPoints;
  points: XY[];
}

/** Points one chart strokes per redraw, split across its series. */
export const MANY_LINES_POINT_BUDGET = 20_000;
const HIT_PIXELS = 10;

export class ManyLinesChart {
  readonly chart: LineChart;
  private series: DrawnSeries[] = [];
  private hovered = -1;
  private readonly tooltip: HTMLElement;
  private readonly legend: HTMLElement | undefined;
  private readonly paths = new Map<number, SeriesPoints>();
  private readonly renderer = new LinesRenderer();
  /** The axis settings of the last layout. */
  private axes = '';

  constructor(
    private readonly card: ChartCard,
    theme: Theme,
    options: { yTitle: string; xTitle?: string; onPick?: (tag: number) => void; legend?: boolean },
  ) {
    this.chart = createLineChart(card.canvas, theme, {
      xTitle: options.xTitle ?? 'step',
      yTitle: options.yTitle,
      plugins: [this.linesPlugin()],
    });
    this.tooltip = el('div', { className: 'chart-tooltip', testId: `tooltip-${card.id}`, attrs: { role: 'status' } });
    this.tooltip.hidden = true;
    card.box.appendChild(this.tooltip);
    if (options.legend) {
      this.legend = el('ul', { className: 'legend', testId: `legend-${card.id}` });
      card.element.appendChild(this.legend);
    }
    const canvas = card.canvas;
    canvas.addEventListener('mousemove', (e) => this.hover(e.offsetX, e.offsetY));
    canvas.addEventListener('mouseleave', () => this.setHovered(-1, 0, 0));
    canvas.addEventListener('click', (e) => {
      const hit = this.hitTest(e.offsetX, e.offsetY);
      if (hit && options.onPick) options.onPick(this.series[hit.series].tag);
    });
  }

  /**
   * Replace all series (sharing the first `n` entries of one x array; each ys has ≥ n values) and
   * redraw. `range` (over all series) spares a scan when the caller keeps it; `epoch` must change
   * whenever already-drawn values change (not for appended ones) — decimation is incremental.
   */
  setData(
    xs: ArrayLike<number>,
    n: number,
    inputs: readonly ManySeriesInput[],
    options: { range?: ValueRange; epoch?: unknown; xMax?: number } = {},
  ): void {
    const y = this.chart.options.scales!.y as { type?: ScaleType; suggestedMin?: number; suggestedMax?: number };
    const range =
      options.range ?? valueRange(inputs.map((s) => (s.ys.length === n ? s.ys : (Array.prototype.slice.call(s.ys, 0, n) as number[]))));
    const scale = chooseScale(range, y.type ?? 'linear');
    setScaleType(this.chart, 'y', scale);
    const budget = pointsPerSeries(MANY_LINES_POINT_BUDGET, inputs.length, 16);
    const positiveOnly = scale === 'logarithmic';
    this.series = inputs.map((s) => {
      let data = this.paths.get(s.tag);
      if (!data) this.paths.set(s.tag, (data = new SeriesPoints()));
      data.update(xs, s.ys, n, budget, positiveOnly, options.epoch, inputs.length > 20 ? 8 : undefined);
      return { tag: s.tag, label: s.label, color: s.color, width: s.width, data, points: data.points };
    });
    if (this.legend) this.renderLegend(inputs);
    if (this.hovered >= this.series.length) this.hovered = -1;
    const [lo, hi] = niceBounds(positiveOnly ? range.minPositive : range.min, positiveOnly ? range.maxPositive : range.max, positiveOnly);
    y.suggestedMin = Number.isFinite(lo) ? lo : undefined;
    y.suggestedMax = Number.isFinite(hi) ? hi : undefined;
    const x = this.chart.options.scales!.x as { min?: number; max?: number };
    x.min = n > 0 ? xs[0] : undefined;
    x.max = n > 0 ? Math.max(xs[n - 1], xs[0] + 1, options.xMax ?? -Infinity) : undefined;
    // Axes unchanged (fixed x extent, y range settled): redraw only, skipping Chart.js's layout pass.
    const axes = `${scale}|${y.suggestedMin}|${y.suggestedMax}|${x.min}|${x.max}`;
    if (axes === this.axes) this.chart.draw();
    else this.chart.update('none');
    this.axes = axes;
  }

  /** Theme colours changed: re-apply them at the next `setData` (a full Chart.js update). */
  retheme(theme: Theme): void {
    applyTheme(this.chart, theme);
    this.axes = '';
  }

  destroy(): void {
    this.chart.destroy();
    this.tooltip.remove();
    this.legend?.remove();
  }

  private renderLegend(inputs: readonly ManySeriesInput[]): void {
    const key = inputs.map((s) => `${s.label}\u0000${s.color}`).join('\u0001');
    if (this.legend!.dataset.key === key) return;
    this.legend!.dataset.key = key;
    setChildren(
      this.legend!,
      ...inputs.map((s) => {
        const swatch = el('span', { className: 'swatch', attrs: { 'aria-hidden': 'true' } });
        swatch.style.backgroundColor = s.color;
        return el('li', {}, swatch, ' ', s.label);
      }),
    );
  }

  private linesPlugin(): Plugin<'line'> {
    return {
      id: 'normscopeManyLines',
      afterDatasetsDraw: (chart) => this.renderer.draw(chart, this.series, this.series[this.hovered]),
    };
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
      if (d < bestDistance) {
        bestDistance = d;
        best = { series: i, point: p };
      }
    });
    return best;
  }

  private hover(px: number, py: number): void {
    const hit = this.hitTest(px, py);
    if (!hit) {
      this.setHovered(-1, 0, 0);
      return;
    }
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
