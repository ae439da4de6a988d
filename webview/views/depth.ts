/**
 * Depth profile tab: the latest value of one statistic per layer in model order. Flagged layers
 * are coloured by severity and labelled with what they were flagged for; the table under the
 * chart says the same in text (and is the keyboard way in to a layer).
 */
import type { Plugin } from 'chart.js';
import type { Finding, StatName } from '../../src/protocol';
import { ChartCard } from '../card';
import { applyTheme, createBarChart, type BarChart } from '../charts';
import { el, formatValue, layerTable, setChildren } from '../dom';
import { depthProfile, type DepthBar } from '../series';
import { chooseScale, valueRange } from '../valueRange';
import type { RunStore } from '../store';
import type { Theme } from '../theme';
import { OVERVIEW_STATS, type View, type ViewContext } from './context';

export class DepthView implements View {
  readonly element: HTMLElement;
  /** Statistic shown; kept in the webview state. */
  stat: StatName = 'gradNorm';
  private readonly select: HTMLSelectElement;
  private readonly card: ChartCard;
  private readonly table: HTMLTableSectionElement;
  private readonly modelFindings: HTMLElement;
  private chart: BarChart | undefined;
  private bars: DepthBar[] = [];
  private store: RunStore | undefined;
  private drawn = -1;

  constructor(private readonly ctx: ViewContext) {
    this.select = el('select', { testId: 'depth-stat', attrs: { 'aria-label': 'Statistic shown in the depth profile' } });
    for (const spec of OVERVIEW_STATS) this.select.appendChild(el('option', { attrs: { value: spec.stat } }, spec.title));
    this.select.value = this.stat;
    this.select.addEventListener('change', () => {
      this.stat = this.select.value as StatName;
      this.ctx.saveState();
      this.render(true);
    });
    this.card = new ChartCard({
      id: 'depth',
      title: 'Depth profile (latest value per layer)',
      height: 'medium',
      onExport: (id) => ctx.exportPng(id),
      description: 'Bars in model order. Red = error, yellow = warning, blue = info; the label above a bar says what was found.',
    });
    this.table = el('tbody', { testId: 'depth-table' });
    this.modelFindings = el('ul', { className: 'findings', testId: 'model-findings' });
    this.element = el(
      'div',
      { className: 'chart-column' },
      el('label', { className: 'inline-field' }, 'Statistic ', this.select),
      this.card.element,
      el('h3', {}, 'Model-wide findings'),
      this.modelFindings,
      el('h3', {}, 'Layers'),
      el('div', { className: 'table-scroll' }, layerTable(['#', 'Layer', 'Class', 'Latest', 'Findings'], this.table)),
    );
  }

  setStat(stat: StatName): void {
    if (!OVERVIEW_STATS.some((s) => s.stat === stat)) return;
    this.stat = stat;
    this.select.value = stat;
  }

  reset(store: RunStore | undefined): void {
    this.store = store;
    this.drawn = -1;
    this.chart?.destroy();
    this.chart = undefined;
    setChildren(this.table);
    setChildren(this.modelFindings);
  }

  render(force: boolean): void {
    const store = this.store;
    if (!store || (!force && this.drawn === store.version)) return;
    this.drawn = store.version;
    this.chart ??= createBarChart(this.card.canvas, this.ctx.theme, {
      yTitle: this.stat,
      onPick: (i) => this.ctx.openLayer(i),
      plugins: [
        kindLabels(
          () => this.bars,
          () => this.ctx.theme,
        ),
      ],
    });
    this.bars = depthProfile(store, this.stat);
    const theme = this.ctx.theme;
    const values = this.bars.map((b) => b.value);
    const y = this.chart.options.scales!.y as { type?: string; title?: { text?: string } };
    y.type = chooseScale(valueRange([values.map((v) => v ?? Number.NaN)]), y.type as 'linear' | 'logarithmic');
    if (y.title) y.title.text = this.stat;
    this.chart.data.labels = this.bars.map((b) => b.name);
    const ds = this.chart.data.datasets[0];
    ds.data = y.type === 'logarithmic' ? values.map((v) => (v !== null && v > 0 ? v : null)) : values;
    ds.backgroundColor = this.bars.map((b) => (b.severity ? theme.severity[b.severity] : theme.neutralBar));
    ds.label = this.stat;
    this.chart.update('none');
    this.renderTable(store);
  }

  retheme(): void {
    if (this.chart) applyTheme(this.chart, this.ctx.theme);
  }

  private renderTable(store: RunStore): void {
    const rows = this.table.rows;
    if (rows.length !== this.bars.length) {
      setChildren(this.table, ...this.bars.map((bar) => this.row(bar)));
    }
    this.bars.forEach((bar, i) => {
      const row = rows[i];
      const severity = bar.severity ?? 'none';
      if (row.dataset.severity !== severity || row.dataset.kinds !== bar.kinds.join(',')) {
        row.dataset.severity = severity;
        row.dataset.kinds = bar.kinds.join(',');
        row.cells[4].textContent = bar.kinds.length ? `${bar.severity}: ${bar.kinds.join(', ')}` : '';
      }
      row.cells[3].textContent = formatValue(bar.value);
    });
    setChildren(this.modelFindings, ...store.findings.filter((f) => f.layer === null).map(findingItem));
    if (this.modelFindings.childElementCount === 0) this.modelFindings.appendChild(el('li', { className: 'muted' }, 'None.'));
  }

  private row(bar: DepthBar): HTMLTableRowElement {
    const info = this.store!.run.layers[bar.layer];
    const open = el(
      'button',
      { className: 'link', testId: 'depth-open', attrs: { type: 'button' }, onClick: () => this.ctx.openLayer(bar.layer) },
      bar.name,
    );
    return el(
      'tr',
      { testId: 'depth-row', attrs: { 'data-layer-index': bar.layer, 'data-severity': 'none' } },
      el('td', {}, bar.layer),
      el('td', {}, open),
      el('td', {}, info.className),
      el('td', {}, ''),
      el('td', {}, ''),
    );
  }
}

/** A finding as a list item: severity, kind, message and fix, all as text. */
export function findingItem(f: Finding): HTMLLIElement {
  return el(
    'li',
    { className: `finding ${f.severity}`, testId: 'finding', attrs: { 'data-kind': f.kind, 'data-severity': f.severity } },
    el('span', { className: 'badge' }, f.severity),
    ' ',
    el('strong', {}, f.kind),
    f.step !== null ? ` (from step ${f.step})` : '',
    ': ',
    f.message,
    f.fix ? el('div', { className: 'fix' }, 'Fix: ', f.fix) : null,
  );
}

/**
 * Marks every flagged layer: a severity-coloured strip under its bar (visible even when the value
 * is 0 or missing, e.g. a dead layer on a log axis) and its finding kinds as a vertical label.
 */
function kindLabels(bars: () => DepthBar[], theme: () => Theme): Plugin<'bar'> {
  return {
    id: 'normscopeKindLabels',
    afterDatasetsDraw(chart) {
      const meta = chart.getDatasetMeta(0);
      const ctx = chart.ctx;
      const area = chart.chartArea;
      const colors = theme();
      ctx.save();
      ctx.font = '11px sans-serif';
      ctx.textBaseline = 'middle';
      bars().forEach((bar, i) => {
        const el = meta.data[i] as unknown as { x: number; y: number; width: number } | undefined;
        if (!el || bar.kinds.length === 0 || !bar.severity) return;
        ctx.fillStyle = colors.severity[bar.severity];
        const w = Math.max(3, Math.round(el.width || 3));
        ctx.fillRect(Math.round(el.x - w / 2), Math.round(area.bottom) - 6, w, 6);
        const text = bar.kinds.join(', ');
        // Above the bar; inside it (reading down) when there is no room; from the bottom when there is no bar.
        const top = Number.isFinite(el.y) && el.y < area.bottom - 5 ? el.y : area.bottom - 5;
        const fitsAbove = ctx.measureText(text).width <= top - area.top - 4;
        ctx.fillStyle = colors.foreground;
        ctx.save();
        ctx.translate(el.x, fitsAbove ? top - 4 : top + 4);
        ctx.rotate(-Math.PI / 2);
        ctx.textAlign = fitsAbove ? 'left' : 'right';
        ctx.fillText(text, 0, 0);
        ctx.restore();
      });
      ctx.restore();
    },
  };
}
