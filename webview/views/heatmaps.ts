/**
 * Heatmaps tab: layers (rows, model order) × steps (columns) for gradient norm (log colour) and
 * dead fraction, so a band of dead or exploding layers stands out at a glance.
 */
import type { StatName } from '../../src/protocol';
import { ChartCard } from '../card';
import { el } from '../dom';
import { HeatmapCanvas } from '../heatmapCanvas';
import { chooseScale, heatmapGrid } from '../series';
import type { RunStore } from '../store';
import type { View, ViewContext } from './context';

const HEATMAPS: { stat: StatName; title: string; description: string }[] = [
  { stat: 'gradNorm', title: 'Gradient norm: layers × steps', description: 'Dark rows get almost no gradient (vanishing); bright rows at the top of the scale are exploding.' },
  { stat: 'deadFraction', title: 'Dead fraction: layers × steps', description: 'Bright rows are layers whose units output 0 for the whole batch — dead ReLUs that no longer learn.' },
];

/** Most step columns a heatmap shows; older steps are averaged into buckets. */
const MAX_COLUMNS = 240;

interface Entry { card: ChartCard; renderer: HeatmapCanvas; stat: StatName; drawn: number }

export class HeatmapsView implements View {
  readonly element: HTMLElement;
  private entries: Entry[] = [];
  private store: RunStore | undefined;

  constructor(private readonly ctx: ViewContext) {
    this.element = el('div', { className: 'chart-column' });
  }

  reset(store: RunStore | undefined): void {
    for (const e of this.entries) e.card.remove();
    this.entries = [];
    this.store = store;
    if (!store) return;
    for (const spec of HEATMAPS) {
      if (store.statIndex(spec.stat) < 0) continue;
      const card = new ChartCard({ id: `heatmap-${spec.stat}`, title: spec.title, description: spec.description, height: 'large', onExport: (id) => this.ctx.exportPng(id) });
      this.element.appendChild(card.element);
      const renderer = new HeatmapCanvas(card, this.ctx.theme, (row) => this.ctx.openLayer(row));
      const entry: Entry = { card, renderer, stat: spec.stat, drawn: -1 };
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
    for (const e of this.entries) { e.renderer.setTheme(this.ctx.theme); e.drawn = -1; }
  }

  private draw(entry: Entry): void {
    const store = this.store;
    if (!store || entry.drawn === store.version) return;
    entry.drawn = store.version;
    const cols = Math.min(MAX_COLUMNS, Math.max(1, entry.card.box.clientWidth - 200));
    const grid = heatmapGrid(store, entry.stat, cols);
    // Colour on a log scale when the values span decades (typical for gradient norms).
    const scale = chooseScale({ min: grid.min, max: grid.max, minPositive: grid.minPositive, maxPositive: grid.max, hasNegative: grid.min < 0, finiteCount: 1 });
    entry.renderer.draw(grid, store.run.layers.map((l) => l.name), scale === 'logarithmic');
  }
}
