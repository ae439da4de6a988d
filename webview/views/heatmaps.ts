/**
 * Heatmaps tab: layers (rows, model order) × steps (columns) for gradient norm (log colour) and
 * dead fraction, so a band of dead or exploding layers stands out at a glance.
 */
import { el } from '../dom';
import { HeatmapCanvas } from '../heatmapCanvas';
import { heatmapGrid } from '../series';
import { chooseScale } from '../valueRange';
import type { RunStore } from '../store';
import type { View, ViewContext } from './context';
import { StatCards, type StatSpec } from './statCards';

const HEATMAPS: StatSpec[] = [
  {
    stat: 'gradNorm',
    title: 'Gradient norm: layers × steps',
    description: 'Dark rows get almost no gradient (vanishing); bright rows at the top of the scale are exploding.',
  },
  {
    stat: 'deadFraction',
    title: 'Dead fraction: layers × steps',
    description: 'Bright rows are layers whose units output 0 for the whole batch — dead ReLUs that no longer learn.',
  },
];

/** Most step columns a heatmap shows; older steps are averaged into buckets. */
const MAX_COLUMNS = 240;

export class HeatmapsView implements View {
  readonly element: HTMLElement;
  private readonly cards: StatCards<HeatmapCanvas>;

  constructor(ctx: ViewContext) {
    this.element = el('div', { className: 'chart-column' });
    this.cards = new StatCards(ctx, this.element, {
      container: this.element,
      idPrefix: 'heatmap',
      height: 'large',
      create: (card) => new HeatmapCanvas(card, ctx.theme, (row) => ctx.openLayer(row)),
      retheme: (renderer) => renderer.setTheme(ctx.theme),
      paint: (renderer, stat, store, card) => {
        const cols = Math.min(MAX_COLUMNS, Math.max(1, card.box.clientWidth - 200));
        const grid = heatmapGrid(store, stat, cols);
        // Colour on a log scale when the values span decades (typical for gradient norms).
        const scale = chooseScale({
          min: grid.min,
          max: grid.max,
          minPositive: grid.minPositive,
          maxPositive: grid.max,
          hasNegative: grid.min < 0,
          finiteCount: 1,
        });
        renderer.draw(
          grid,
          store.run.layers.map((l) => l.name),
          scale === 'logarithmic',
        );
      },
    });
  }

  reset(store: RunStore | undefined): void {
    this.cards.reset(store, HEATMAPS);
  }
  render(force: boolean): void {
    this.cards.render(force);
  }
  retheme(): void {
    this.cards.retheme();
  }
}
