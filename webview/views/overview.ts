/**
 * Overview tab: one chart per statistic, one line per layer (colour = depth, flagged layers drawn
 * thicker). Clicking a line opens that layer's detail.
 */
import { el } from '../dom';
import { ManyLinesChart } from '../manyLines';
import { findingsByLayer, layerColor } from '../series';
import type { RunStore } from '../store';
import { isDark } from '../theme';
import { OVERVIEW_STATS, type View, type ViewContext } from './context';
import { StatCards } from './statCards';

export class OverviewView implements View {
  readonly element: HTMLElement;
  private readonly empty: HTMLElement;
  private readonly cards: StatCards<ManyLinesChart>;

  constructor(ctx: ViewContext) {
    this.empty = el(
      'p',
      { className: 'empty', testId: 'overview-empty' },
      'No run yet. Run "NormScope: Check Normalization in This File" on a model file.',
    );
    const grid = el('div', { className: 'chart-grid', testId: 'overview-grid' });
    this.element = el(
      'div',
      {},
      el(
        'p',
        { className: 'hint' },
        'Line colour follows depth: first layer blue, last layer red. Flagged layers are drawn thicker. Click a line to open that layer.',
      ),
      this.empty,
      grid,
    );
    this.cards = new StatCards(ctx, this.element, {
      container: grid,
      idPrefix: 'overview',
      create: (card, stat) => new ManyLinesChart(card, ctx.theme, { yTitle: stat, onPick: (layer) => ctx.openLayer(layer) }),
      retheme: (lines) => lines.retheme(ctx.theme),
      destroy: (lines) => lines.destroy(),
      paint: (lines, stat, store) => {
        const flagged = findingsByLayer(store.findings);
        const dark = isDark(ctx.theme);
        const scale = ctx.theme.lineScale;
        lines.setData(
          store.steps,
          store.size,
          store.run.layers.map((layer, i) => ({
            tag: i,
            label: layer.name,
            color: layerColor(i, store.layerCount, dark),
            width: (flagged.has(layer.name) ? 2.5 : 1) * scale,
            ys: store.series(stat, i),
          })),
          { range: store.range(stat), epoch: store.rewrites, xMax: store.axisEnd },
        );
      },
    });
  }

  reset(store: RunStore | undefined): void {
    this.empty.hidden = store !== undefined;
    this.cards.reset(store, OVERVIEW_STATS);
  }

  render(force: boolean): void {
    this.cards.render(force);
  }
  retheme(): void {
    this.cards.retheme();
  }
}
