/**
 * Landscape tab: the loss-landscape instrument of the latest run (RunReport.landscape) as three min–max
 * bands over the probed steps, and internal covariate shift per layer. Empty until a run with
 * `normscope.landscape` on has finished.
 */
import type { LandscapeReport, LayerInfo } from '../../src/protocol';
import { ChartCard } from '../card';
import { el, formatValue, layerTable, setChildren } from '../dom';
import { bandOf, icsByLayer, LANDSCAPE_CURVES } from '../landscapeSeries';
import { ManyLinesChart } from '../manyLines';
import type { RunStore } from '../store';
import type { View, ViewContext } from './context';

const BAND_COLORS = { low: '#3794ff', high: '#d63b3b' };

export class LandscapeView implements View {
  readonly element: HTMLElement;
  private readonly intro: HTMLElement;
  private readonly summary: HTMLElement;
  private readonly cards: ChartCard[];
  private readonly charts: (ManyLinesChart | undefined)[] = [];
  private readonly icsTable: HTMLTableSectionElement;
  private store: RunStore | undefined;
  private drawn: LandscapeReport | undefined;

  constructor(private readonly ctx: ViewContext) {
    this.intro = el(
      'p',
      { className: 'empty', testId: 'landscape-intro' },
      'No landscape measurements yet. Turn on the "normscope.landscape" setting (CLI: --landscape) and run a check; the curves appear when the run finishes.',
    );
    this.summary = el('p', { className: 'muted', testId: 'landscape-summary' });
    this.cards = LANDSCAPE_CURVES.map(
      (c) => new ChartCard({ id: `landscape-${c.curve}`, title: c.title, description: c.description, onExport: (id) => ctx.exportPng(id) }),
    );
    this.icsTable = el('tbody', { testId: 'landscape-ics' });
    this.element = el(
      'div',
      {},
      this.intro,
      this.summary,
      el('div', { className: 'chart-grid' }, ...this.cards.map((c) => c.element)),
      el('h3', {}, 'Internal covariate shift per layer (mean over probed steps)'),
      layerTable(['Layer', 'Class', '‖G − G′‖', 'cos(G, G′)'], this.icsTable),
    );
  }

  reset(store: RunStore | undefined): void {
    this.store = store;
    this.drawn = undefined;
  }

  render(force: boolean): void {
    const report = this.store?.report?.landscape;
    this.intro.hidden = report !== undefined;
    if (!report || (!force && this.drawn === report)) return;
    this.drawn = report;
    const s = report.summary;
    this.summary.textContent =
      `${report.samples.length} probes every ${report.every} steps at ${report.stepSizes.join(', ')}× the optimizer's step (η = ${formatValue(report.learningRate)}). ` +
      `Mean band width: loss ${formatValue(s.lossSpan)} (${formatValue(s.relativeLossSpan)} of the starting loss), gradient change ${formatValue(s.gradChange)}, β-smoothness ${formatValue(s.smoothness)}.${report.note ? ` ${report.note}.` : ''}`;
    LANDSCAPE_CURVES.forEach((c, i) => {
      const chart = (this.charts[i] ??= new ManyLinesChart(this.cards[i], this.ctx.theme, { yTitle: c.yTitle, legend: true }));
      const band = bandOf(report, c.curve);
      const width = 2 * this.ctx.theme.lineScale;
      chart.setData(
        Float64Array.from(band.steps),
        band.steps.length,
        [
          { tag: 0, label: 'band min', color: BAND_COLORS.low, width, ys: Float64Array.from(band.low) },
          { tag: 1, label: 'band max', color: BAND_COLORS.high, width, ys: Float64Array.from(band.high) },
        ],
        { epoch: report },
      );
    });
    const layers: LayerInfo[] = this.store?.run.layers ?? [];
    setChildren(
      this.icsTable,
      ...icsByLayer(report).map((row) => {
        const layer = layers.find((l) => l.index === row.layer);
        return el(
          'tr',
          { testId: 'landscape-ics-row', attrs: { 'data-layer': String(row.layer) } },
          el('td', {}, layer?.name ?? String(row.layer)),
          el('td', {}, layer?.className ?? ''),
          el('td', {}, formatValue(row.distance)),
          el('td', {}, formatValue(row.cosine)),
        );
      }),
    );
  }

  retheme(): void {
    for (const chart of this.charts) chart?.retheme(this.ctx.theme);
    this.drawn = undefined;
  }
}
