/**
 * Chart.js set-up for the panel: only the pieces we draw, with the documented performance
 * settings (no animation, pre-parsed {x, y} data, no point markers) so 200 series redraw fast.
 */
import {
  BarController, BarElement, CategoryScale, Chart, LinearScale, LineController, LineElement,
  LogarithmicScale, PointElement, Tooltip, Legend, type ChartConfiguration, type ChartEvent, type ActiveElement,
} from 'chart.js';
import type { XY } from './decimate';
import type { ScaleType } from './series';
import type { Theme } from './theme';

Chart.register(LineController, LineElement, PointElement, LinearScale, LogarithmicScale, CategoryScale, BarController, BarElement, Tooltip, Legend);

export type LineChart = Chart<'line', XY[]>;
export type BarChart = Chart<'bar', (number | null)[], string>;

/** A dataset that knows which layer (or candidate) it draws. */
export interface TaggedLineDataset { label: string; data: XY[]; borderColor: string; borderWidth: number; tag: number }

function axisColors(theme: Theme) {
  return { ticks: { color: theme.muted }, grid: { color: theme.grid }, border: { color: theme.grid } };
}

function axisTitle(text: string, theme: Theme) {
  return { display: text !== '', text, color: theme.muted };
}

export function createLineChart(
  canvas: HTMLCanvasElement,
  theme: Theme,
  options: { xTitle: string; yTitle: string; onPick?: (tag: number) => void; legend?: boolean },
): LineChart {
  const config: ChartConfiguration<'line', XY[]> = {
    type: 'line',
    data: { datasets: [] },
    options: {
      animation: false,
      parsing: false,
      normalized: true,
      responsive: true,
      maintainAspectRatio: false,
      spanGaps: false,
      events: ['mousemove', 'mouseout', 'click'],
      interaction: { mode: 'nearest', intersect: false, axis: 'xy' },
      elements: { point: { radius: 0, hoverRadius: 3, hitRadius: 4 }, line: { tension: 0, borderJoinStyle: 'round' } },
      scales: {
        x: { type: 'linear', title: axisTitle(options.xTitle, theme), ...axisColors(theme), ticks: { color: theme.muted, maxTicksLimit: 8 } },
        y: { type: 'linear', title: axisTitle(options.yTitle, theme), ...axisColors(theme), ticks: { color: theme.muted, maxTicksLimit: 6 } },
      },
      plugins: {
        tooltip: { enabled: true, displayColors: true },
        legend: { display: options.legend ?? false, labels: { color: theme.foreground, boxWidth: 12 } },
      },
      onClick: (_event: ChartEvent, elements: ActiveElement[], chart) => {
        const hit = elements[0];
        if (!hit || !options.onPick) return;
        const ds = chart.data.datasets[hit.datasetIndex] as unknown as TaggedLineDataset;
        options.onPick(ds.tag);
      },
    },
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
        y: { type: 'linear', title: axisTitle(options.yTitle, theme), ...axisColors(theme) },
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
