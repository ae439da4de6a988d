/**
 * Layer detail tab: every statistic of one layer over time, γ/β for norm layers, BatchNorm's
 * moving-vs-batch gap, the layer's findings, and "Reveal in editor".
 */
import type { StatName } from '../../src/protocol';
import { ChartCard } from '../card';
import { button, el, setChildren } from '../dom';
import { ManyLinesChart } from '../manyLines';
import type { RunStore } from '../store';
import type { View, ViewContext } from './context';
import { findingItem } from './depth';
import { errorMessage } from '../../src/protocol';

interface Group {
  id: string;
  title: string;
  description?: string;
  stats: StatName[];
}

const GAMMA_BETA: Group = {
  id: 'detail-gamma-beta',
  title: 'γ (scale) and β (shift)',
  stats: ['gammaMean', 'gammaMin', 'gammaMax', 'betaMean'],
  description: 'γ collapsing toward 0 switches units off; the following layers then see almost no signal.',
};
const BN_GAP: Group = {
  id: 'detail-bn-gap',
  title: 'BatchNorm: moving vs batch statistics',
  stats: ['movingMeanGap', 'movingVarGap'],
  description:
    "Gap between the moving averages used at inference (without their warm-up: what is left of their initial 0 and 1) and this batch's statistics. A large gap means inference behaves unlike training — small batches make batch statistics noisy.",
};
// movingUpdates, the count of moving-average updates, only says how warm the averages are: no chart of its own.
const GROUPED = new Set<StatName>([...GAMMA_BETA.stats, ...BN_GAP.stats, 'gammaStd', 'movingUpdates']);
const SERIES_COLORS = ['#3794ff', '#e5a50a', '#2fb344', '#d63b3b'];

interface Entry {
  card: ChartCard;
  lines: ManyLinesChart;
  group: Group;
}

export class DetailView implements View {
  readonly element: HTMLElement;
  /** Layer shown; kept in the webview state. */
  layer = 0;
  private readonly picker: HTMLSelectElement;
  private readonly header: HTMLElement;
  private readonly findings: HTMLElement;
  private readonly grid: HTMLElement;
  private readonly revealStatus: HTMLElement;
  private entries: Entry[] = [];
  private shownGroups = '';
  private store: RunStore | undefined;
  private drawn = -1;

  constructor(private readonly ctx: ViewContext) {
    this.picker = el('select', { testId: 'detail-layer-select', attrs: { 'aria-label': 'Layer' } });
    this.picker.addEventListener('change', () => this.show(Number(this.picker.value)));
    this.header = el('div', { className: 'detail-header', testId: 'detail-header' });
    this.revealStatus = el('span', { className: 'muted', testId: 'reveal-status', attrs: { role: 'status' } });
    this.findings = el('ul', { className: 'findings', testId: 'detail-findings' });
    this.grid = el('div', { className: 'chart-grid small', testId: 'detail-charts' });
    this.element = el(
      'div',
      {},
      el('label', { className: 'inline-field' }, 'Layer ', this.picker),
      this.header,
      el('h3', {}, 'Findings'),
      this.findings,
      this.grid,
    );
  }

  reset(store: RunStore | undefined): void {
    this.store = store;
    setChildren(
      this.picker,
      ...(store?.run.layers ?? []).map((l) => el('option', { attrs: { value: l.index } }, `${l.index}: ${l.name} (${l.className})`)),
    );
    if (store && (this.layer < 0 || this.layer >= store.layerCount)) this.layer = 0;
    this.picker.value = String(this.layer);
    this.clearCharts();
  }

  /** Switch to a layer. */
  show(layer: number): void {
    if (!this.store || layer < 0 || layer >= this.store.layerCount) return;
    this.layer = layer;
    this.picker.value = String(layer);
    this.clearCharts();
    this.ctx.saveState();
    this.render(true);
  }

  render(force: boolean): void {
    const store = this.store;
    if (!store) {
      setChildren(this.header, el('p', { className: 'empty' }, 'No run yet.'));
      return;
    }
    if (!force && this.drawn === store.version) return;
    this.drawn = store.version;
    this.renderHeader(store);
    setChildren(this.findings, ...store.findingsOf(this.layer).map(findingItem));
    if (this.findings.childElementCount === 0) this.findings.appendChild(el('li', { className: 'muted' }, 'No findings for this layer.'));
    const groups = this.groupsWithData(store);
    const key = groups.map((g) => g.id).join('|');
    if (key !== this.shownGroups) {
      this.clearCharts();
      this.shownGroups = key;
      for (const group of groups) {
        const card = new ChartCard({
          id: group.id,
          title: group.title,
          description: group.description,
          height: 'small',
          onExport: (id) => this.ctx.exportPng(id),
        });
        this.grid.appendChild(card.element);
        this.entries.push({ card, group, lines: new ManyLinesChart(card, this.ctx.theme, { yTitle: '', legend: group.stats.length > 1 }) });
      }
    }
    for (const { lines, group } of this.entries) {
      lines.setData(
        store.steps,
        store.size,
        group.stats.map((stat, i) => ({
          tag: i,
          label: stat,
          color: SERIES_COLORS[i % SERIES_COLORS.length],
          width: 1.5 * this.ctx.theme.lineScale,
          ys: store.series(stat, this.layer),
        })),
        { epoch: store.rewrites, xMax: store.axisEnd },
      );
    }
  }

  retheme(): void {
    for (const e of this.entries) e.lines.retheme(this.ctx.theme);
  }

  private renderHeader(store: RunStore): void {
    const info = store.run.layers[this.layer];
    const source = info.source
      ? `${info.source.file}:${info.source.line}:${info.source.column}`
      : 'no source location (model.json or created outside your files)';
    const reveal = button('Reveal in editor', 'reveal-layer', () => void this.reveal(), 'Open the line that creates this layer');
    reveal.disabled = info.source === null;
    const meta = [
      info.className,
      info.activation ? `activation ${info.activation}` : '',
      `${info.paramCount} parameters`,
      info.isNorm ? 'normalization layer' : '',
    ]
      .filter(Boolean)
      .join(' · ');
    setChildren(
      this.header,
      el('h2', { testId: 'detail-name' }, info.name),
      el('p', { testId: 'detail-meta' }, meta),
      el('p', {}, el('span', { testId: 'detail-source' }, source), ' ', reveal, ' ', this.revealStatus),
    );
  }

  private async reveal(): Promise<void> {
    this.revealStatus.textContent = '';
    try {
      const ok = await this.ctx.revealLayer(this.layer);
      if (!ok) this.revealStatus.textContent = 'This layer has no source line to reveal.';
    } catch (e) {
      this.revealStatus.textContent = `Could not reveal the layer: ${errorMessage(e)}`;
    }
  }

  /** The charts this layer has data for: each plain statistic, then γ/β and BN groups. */
  private groupsWithData(store: RunStore): Group[] {
    const hasData = (stat: StatName) => store.series(stat, this.layer).some(Number.isFinite);
    const plain: Group[] = store.run.statNames
      .filter((stat) => !GROUPED.has(stat) && hasData(stat))
      .map((stat) => ({ id: `detail-${stat}`, title: stat, stats: [stat] }));
    const extra = [GAMMA_BETA, BN_GAP].filter((g) => g.stats.some((s) => store.statIndex(s) >= 0 && hasData(s)));
    return [...plain, ...extra.map((g) => ({ ...g, stats: g.stats.filter((s) => store.statIndex(s) >= 0) }))];
  }

  private clearCharts(): void {
    for (const e of this.entries) {
      e.lines.destroy();
      e.card.remove();
    }
    this.entries = [];
    this.shownGroups = '';
  }
}
