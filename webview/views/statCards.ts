/**
 * The cards of a tab with one chart per statistic (overview, heatmaps): rebuilt per run, and each redrawn only
 * while it is on screen in a shown tab and the run has new data since its last draw (cheap when idle).
 */
import type { StatName } from '../../src/protocol';
import { ChartCard, type CardOptions } from '../card';
import type { RunStore } from '../store';
import type { ViewContext } from './context';

/** One statistic's card: what it shows and what to look for. */
export interface StatSpec {
  stat: StatName;
  title: string;
  description: string;
}

/** How a tab makes, paints, rethemes and frees the renderer of one card. */
export interface StatCardsOptions<R> {
  /** Where the cards go. */
  container: HTMLElement;
  idPrefix: string;
  height?: CardOptions['height'];
  create(card: ChartCard, stat: StatName): R;
  paint(renderer: R, stat: StatName, store: RunStore, card: ChartCard): void;
  retheme(renderer: R): void;
  destroy?(renderer: R): void;
}

interface Entry<R> {
  card: ChartCard;
  renderer: R;
  stat: StatName;
  drawn: number;
}

export class StatCards<R> {
  private entries: Entry<R>[] = [];
  private store: RunStore | undefined;

  /** `view` is the tab's element: a card scrolled into view draws only while that tab is shown. */
  constructor(
    private readonly ctx: ViewContext,
    private readonly view: HTMLElement,
    private readonly options: StatCardsOptions<R>,
  ) {}

  /** Drop the old run's cards and build one per spec the new run measures. */
  reset(store: RunStore | undefined, specs: readonly StatSpec[]): void {
    for (const e of this.entries) {
      this.options.destroy?.(e.renderer);
      e.card.remove();
    }
    this.entries = [];
    this.store = store;
    if (!store) return;
    const { idPrefix, height, container } = this.options;
    for (const spec of specs) {
      if (store.statIndex(spec.stat) < 0) continue;
      const card = new ChartCard({
        id: `${idPrefix}-${spec.stat}`,
        title: spec.title,
        description: spec.description,
        height,
        onExport: (id) => this.ctx.exportPng(id),
      });
      container.appendChild(card.element);
      const entry: Entry<R> = { card, renderer: this.options.create(card, spec.stat), stat: spec.stat, drawn: -1 };
      card.onShown = () => {
        if (!this.view.closest('[hidden]')) this.draw(entry);
      };
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
    for (const e of this.entries) {
      this.options.retheme(e.renderer);
      e.drawn = -1;
    }
  }

  private draw(entry: Entry<R>): void {
    const store = this.store;
    if (!store || entry.drawn === store.version) return;
    entry.drawn = store.version;
    this.options.paint(entry.renderer, entry.stat, store, entry.card);
  }
}
