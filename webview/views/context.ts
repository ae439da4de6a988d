/**
 * What every view gets from the app: the theme, the current run's data and the actions it may trigger.
 */
import type { NormKind, StatName } from '../../src/protocol';
import type { RunStore } from '../store';
import type { Theme } from '../theme';

export interface ViewContext {
  theme: Theme;
  /** Show one layer in the detail tab. */
  openLayer(layer: number): void;
  /** Export a chart card as PNG. */
  exportPng(chartId: string): void;
  /** Ask the host to reveal a layer's source line; resolves false when it has none. */
  revealLayer(layer: number): Promise<boolean>;
  /** Apply a comparison candidate to the source. */
  applyCandidate(norm: NormKind): Promise<boolean>;
  /** Remember UI state across panel reloads. */
  saveState(): void;
}

/** A tab's content. `render` is only called while the tab is shown. */
export interface View {
  readonly element: HTMLElement;
  /** A new run started (or the panel was cleared when store is undefined). */
  reset(store: RunStore | undefined): void;
  /** Draw what changed since the last call; `force` redraws everything (theme change, tab shown). */
  render(force: boolean): void;
  /** Theme colours changed; the app then redraws the shown tab with `force`. */
  retheme(): void;
}

/** The per-statistic charts of the overview, with what to look for in each. */
export const OVERVIEW_STATS: { stat: StatName; title: string; description: string }[] = [
  {
    stat: 'mean',
    title: 'Activation mean',
    description:
      "Mean output per layer. Means that drift away from 0 shift the next layer's inputs — the covariate shift normalization removes.",
  },
  {
    stat: 'std',
    title: 'Activation std',
    description: "Spread of each layer's output. Shrinking with depth means the signal vanishes; growing means it explodes.",
  },
  {
    stat: 'gain',
    title: 'Gain (output / input scale)',
    description: 'How much each layer scales its input. Far below 1 layer after layer vanishes the signal, far above explodes it.',
  },
  {
    stat: 'gradNorm',
    title: 'Gradient norm',
    description: "Norm of each layer's weight gradient. Several decades between layers means some layers barely learn.",
  },
  {
    stat: 'deadFraction',
    title: 'Dead fraction',
    description: 'Share of units that output 0 for the whole batch (dead ReLUs). They get no gradient and stop learning.',
  },
  {
    stat: 'updateRatio',
    title: 'Update ratio (|Δw| / |w|)',
    description:
      'Step size relative to the weights; around 1e-3 is healthy. L2 on weights before a norm layer only changes this effective learning rate.',
  },
];
