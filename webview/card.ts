/**
 * A chart card: caption, "PNG" export button and a fixed-height canvas box (fixed so the page
 * never jumps when data arrives). Cards know whether they are on screen, so off-screen charts
 * skip redraws and catch up when scrolled into view.
 */
import { button, el } from './dom';

export interface CardOptions {
  id: string;
  title: string;
  /** One sentence on what to look for (teaches the reader). */
  description?: string;
  height?: 'small' | 'medium' | 'large';
  onExport: (id: string) => void;
}

const cards = new Map<string, ChartCard>();
let observer: IntersectionObserver | undefined;

function visibilityObserver(): IntersectionObserver | undefined {
  if (observer || typeof IntersectionObserver === 'undefined') return observer;
  observer = new IntersectionObserver((entries) => {
    for (const entry of entries) {
      const card = cards.get((entry.target as HTMLElement).dataset.chartId ?? '');
      if (!card) continue;
      card.onScreen = entry.isIntersecting;
      if (card.onScreen) card.onShown?.();
    }
  });
  return observer;
}

export class ChartCard {
  readonly element: HTMLElement;
  readonly canvas: HTMLCanvasElement;
  readonly box: HTMLElement;
  /** False while scrolled out of view (hidden tabs are handled by the views). */
  onScreen = true;
  /** Draws the card now if its data changed; called when it scrolls into view and before an export. */
  onShown: (() => void) | undefined;

  constructor(readonly options: CardOptions) {
    this.canvas = el('canvas', { testId: `canvas-${options.id}`, attrs: { role: 'img', 'aria-label': options.title } });
    this.box = el('div', { className: `chart-box ${options.height ?? 'medium'}` }, this.canvas);
    this.element = el(
      'figure',
      { className: 'card', testId: `chart-${options.id}`, attrs: { 'data-chart-id': options.id } },
      el(
        'figcaption',
        {},
        el('span', { className: 'card-title' }, options.title),
        button('PNG', `png-${options.id}`, () => options.onExport(options.id), `Export "${options.title}" as a PNG image`),
      ),
      options.description ? el('p', { className: 'card-description' }, options.description) : null,
      this.box,
    );
    cards.set(options.id, this);
    visibilityObserver()?.observe(this.element);
  }

  get id(): string {
    return this.options.id;
  }

  /** Forget the card (its chart is destroyed by the owner). */
  remove(): void {
    observer?.unobserve(this.element);
    if (cards.get(this.id) === this) cards.delete(this.id);
    this.element.remove();
  }

  /** The card with this id, if it exists now. */
  static find(id: string): ChartCard | undefined {
    return cards.get(id);
  }
}

/** The chart as a PNG data URL, on the theme background (canvases are transparent). */
export function canvasToPng(canvas: HTMLCanvasElement, background: string): string {
  const out = document.createElement('canvas');
  out.width = Math.max(1, canvas.width);
  out.height = Math.max(1, canvas.height);
  const ctx = out.getContext('2d');
  if (!ctx) throw new Error('NormScope panel: cannot create a 2D canvas for the PNG export');
  ctx.fillStyle = background;
  ctx.fillRect(0, 0, out.width, out.height);
  ctx.drawImage(canvas, 0, 0);
  return out.toDataURL('image/png');
}
