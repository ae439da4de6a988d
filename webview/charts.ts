/**
 * Chart.js set-up for the panel: only the pieces we use, no animation (redraws are synchronous
 * and cheap). Chart.js draws axes, grid and bars; many-series lines go through manyLines.ts.
 */
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  LinearScale,
  LineController,
  LineElement,
  LogarithmicScale,
  PointElement,
  Tooltip,
  type ChartConfiguration,
  type Plugin,
  type Scale,
} from 'chart.js';
import { formatValue } from './dom';
import type { XY } from './decimate';
import type { ScaleType } from './valueRange';
import type { Theme } from './theme';

Chart.register(LineController, LineElement, PointElement, LinearScale, LogarithmicScale, CategoryScale, BarController, BarElement, Tooltip);

export type LineChart = Chart<'line', XY[]>;
export type BarChart = Chart<'bar', (number | null)[], string>;

/**
 * Tick labels: short numbers; on log axes only powers of ten (and 2×, 5× on narrow ranges).
 * Cheaper than Chart.js's Intl-based default, which showed up in redraw profiles.
 */
function tickLabel(this: Scale, value: number | string): string {
  const v = Number(value);
  if (this.type !== 'logarithmic' || !(v > 0)) return formatValue(v);
  const mantissa = v / 10 ** Math.floor(Math.log10(v) + 1e-9);
  const narrow = Math.log10(this.max / this.min) < 2;
  const near = (m: number) => Math.abs(mantissa - m) < 1e-6;
  return near(1) || (narrow && (near(2) || near(5))) ? formatValue(v) : '';
}

function axisColors(theme: Theme) {
  return { ticks: { color: theme.muted }, grid: { color: theme.grid }, border: { color: theme.grid } };
}

function axisTitle(text: string, theme: Theme) {
  return { display: text !== '', text, color: theme.muted };
}

/**
 * A line chart with axes only: the lines are drawn by the given plugins (see manyLines.ts), and
 * mouse handling is done by the owner, so Chart.js listens to no events.
 */
export function createLineChart(
  canvas: HTMLCanvasElement,
  theme: Theme,
  options: { xTitle: string; yTitle: string; plugins: Plugin<'line'>[] },
): LineChart {
  const config: ChartConfiguration<'line', XY[]> = {
    type: 'line',
    data: { datasets: [] },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      events: [],
      scales: {
        // Fixed label rotation and a small label sample keep Chart.js's layout pass cheap.
        x: {
          type: 'linear',
          title: axisTitle(options.xTitle, theme),
          ...axisColors(theme),
          ticks: { color: theme.muted, maxTicksLimit: 8, callback: tickLabel, minRotation: 0, maxRotation: 0, sampleSize: 4 },
        },
        y: {
          type: 'linear',
          title: axisTitle(options.yTitle, theme),
          ...axisColors(theme),
          ticks: { color: theme.muted, maxTicksLimit: 6, callback: tickLabel, sampleSize: 4 },
        },
      },
      plugins: { tooltip: { enabled: false }, legend: { display: false } },
    },
    plugins: options.plugins,
  };
  return new Chart(canvas, config);
}

export function createBarChart(
  canvas: HTMLCanvasElement,
  theme: Theme,
  options: { yTitle: string; onPick?: (index: number) => void; plugins?: ChartConfiguration<'bar'>['plugins'] },
): BarChart {
  const config: ChartConfiguration<'bar', (number | null)[], string> = {
    type: 'bar',
    data: { labels: [], datasets: [{ data: [], backgroundColor: [], borderWidth: 0 }] },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      events: ['mousemove', 'mouseout', 'click'],
      layout: { padding: { top: 18 } },
      scales: {
        x: { type: 'category', ...axisColors(theme), ticks: { color: theme.muted, autoSkip: true, maxRotation: 60 } },
        y: {
          type: 'linear',
          title: axisTitle(options.yTitle, theme),
          ...axisColors(theme),
          ticks: { color: theme.muted, callback: tickLabel },
        },
      },
      plugins: { tooltip: { enabled: true }, legend: { display: false } },
      onClick: (_event, elements) => {
        const hit = elements[0];
        if (hit && options.onPick) options.onPick(hit.index);
      },
    },
    plugins: options.plugins,
  };
  return new Chart(canvas, config);
}

/** Switch an axis between linear and logarithmic; returns whether it changed. */
export function setScaleType(chart: Chart, axis: 'x' | 'y', type: ScaleType): boolean {
  const scale = chart.options.scales?.[axis] as { type?: string } | undefined;
  if (!scale || scale.type === type) return false;
  scale.type = type;
  return true;
}

/** Re-apply theme colours to a chart's axes (after a theme switch). */
export function applyTheme(chart: Chart, theme: Theme): void {
  for (const scale of Object.values(chart.options.scales ?? {})) {
    if (!scale) continue;
    const s = scale as { ticks?: { color?: string }; grid?: { color?: string }; border?: { color?: string }; title?: { color?: string } };
    if (s.ticks) s.ticks.color = theme.muted;
    if (s.grid) s.grid.color = theme.grid;
    if (s.border) s.border.color = theme.grid;
    if (s.title) s.title.color = theme.muted;
  }
}
