/**
 * Overview tab: one chart per statistic, one line per layer (colour = depth, flagged layers drawn
 * thicker). Clicking a line opens that layer's detail.
 */
import { ChartCard } from '../card';
import { el } from '../dom';
import { ManyLinesChart } from '../manyLines';
import { flagsByLayer, layerColor } from '../series';
import type { RunStore } from '../store';
import { isDark } from '../theme';
import { OVERVIEW_STATS, type View, type ViewContext } from './context';

interface Entry { card: ChartCard; lines: ManyLinesChart; stat: (typeof OVERVIEW_STATS)[number]['stat']; drawn: number }

export class OverviewView implements View {
  readonly element: HTMLElement;
  private readonly grid: HTMLElement;
  private readonly empty: HTMLElement;
  private entries: Entry[] = [];
  private store: RunStore | undefined;

  constructor(private readonly ctx: ViewContext) {
    this.empty = el('p', { className: 'empty', testId: 'overview-empty' }, 'No run yet. Run "NormScope: Check Normalization in This File" on a model file.');
    this.grid = el('div', { className: 'chart-grid', testId: 'overview-grid' });
    this.element = el('div', {},
      el('p', { className: 'hint' }, 'Line colour follows depth: first layer blue, last layer red. Flagged layers are drawn thicker. Click a line to open that layer.'),
      this.empty, this.grid);
  }

  reset(store: RunStore | undefined): void {
    for (const e of this.entries) { e.lines.destroy(); e.card.remove(); }
    this.entries = [];
    this.store = store;
    this.empty.hidden = store !== undefined;
    if (!store) return;
    for (const spec of OVERVIEW_STATS) {
      if (store.statIndex(spec.stat) < 0) continue;
      const card = new ChartCard({ id: `overview-${spec.stat}`, title: spec.title, description: spec.description, onExport: (id) => this.ctx.exportPng(id) });
      this.grid.appendChild(card.element);
      const lines = new ManyLinesChart(card, this.ctx.theme, { yTitle: spec.stat, onPick: (layer) => this.ctx.openLayer(layer) });
      const entry: Entry = { card, lines, stat: spec.stat, drawn: -1 };
      card.onShown = () => { if (!this.element.closest('[hidden]')) this.draw(entry); };
      this.entries.push(entry);
    }
  }

  render(force: boolean): void {
    for (const entry of this.entries) {
      if (force) entry.drawn = -1;
      if (entry.card.onScreen) this.draw(entry);
    }
  }

  retheme(): void {
    for (const e of this.entries) { e.lines.retheme(this.ctx.theme); e.drawn = -1; }
  }

  private draw(entry: Entry): void {
    const store = this.store;
    if (!store || entry.drawn === store.version) return;
    entry.drawn = store.version;
    const flagged = flagsByLayer(store.flags);
    const dark = isDark(this.ctx.theme);
    const scale = this.ctx.theme.lineScale;
    entry.lines.setData(store.steps, store.size, store.run.layers.map((layer, i) => ({
      tag: i,
      label: layer.name,
      color: layerColor(i, store.layerCount, dark),
      width: (flagged.has(layer.name) ? 2.5 : 1) * scale,
      ys: store.series(entry.stat, i),
    })), { range: store.range(entry.stat), epoch: store.rewrites, xMax: store.run.steps });
  }
}
