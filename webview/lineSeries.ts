/**
 * Fill a line chart from stored series: pick the y scale (log when values span decades),
 * decimate each series to the chart's point budget, and redraw without animation.
 */
import { setScaleType, type LineChart, type TaggedLineDataset } from './charts';
import { decimateMinMax, pointsPerSeries } from './decimate';
import { chooseScale, valueRange, type ScaleType } from './series';

export interface SeriesInput {
  tag: number;
  label: string;
  color: string;
  width: number;
  xs: ArrayLike<number>;
  ys: ArrayLike<number>;
  n: number;
}

/** Points one chart may draw per redraw, split across its series (keeps a redraw cheap). */
export const CHART_POINT_BUDGET = 24_000;

export function fillLineChart(chart: LineChart, series: readonly SeriesInput[], options: { fixedScale?: ScaleType; budget?: number } = {}): void {
  const current = (chart.options.scales?.y as { type?: ScaleType } | undefined)?.type ?? 'linear';
  const scale = options.fixedScale ?? chooseScale(valueRange(series.map((s) => s.ys)), current);
  setScaleType(chart, 'y', scale);
  const perSeries = pointsPerSeries(options.budget ?? CHART_POINT_BUDGET, series.length);
  const datasets = chart.data.datasets as unknown as TaggedLineDataset[];
  series.forEach((s, i) => {
    const data = decimateMinMax(s.xs, s.ys, s.n, perSeries, { positiveOnly: scale === 'logarithmic' });
    const ds = datasets[i];
    if (ds && ds.tag === s.tag) {
      ds.data = data;
      ds.borderColor = s.color;
      ds.borderWidth = s.width;
      ds.label = s.label;
    } else {
      datasets[i] = { tag: s.tag, label: s.label, data, borderColor: s.color, borderWidth: s.width };
    }
  });
  datasets.length = series.length;
  let minX = Infinity;
  let maxX = -Infinity;
  for (const s of series) {
    if (s.n === 0) continue;
    minX = Math.min(minX, s.xs[0]);
    maxX = Math.max(maxX, s.xs[s.n - 1]);
  }
  // Fixed x bounds spare Chart.js a scan of every point.
  const x = chart.options.scales?.x as { min?: number; max?: number } | undefined;
  if (x) {
    x.min = Number.isFinite(minX) ? minX : undefined;
    x.max = Number.isFinite(maxX) ? (maxX > minX ? maxX : minX + 1) : undefined;
  }
  chart.update('none');
}
