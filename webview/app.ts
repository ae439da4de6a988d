/**
 * The panel: applies protocol messages to the run store on arrival (nothing is dropped) and
 * redraws at most 30 times a second, only what is on screen. Each redraw is recorded as a
 * `normscope:update` performance measure (the e2e benchmark reads them).
 */
import { Chart } from 'chart.js';
import type { CompareResult, ExportKind, PanelHostFunctions, PanelMessage, StatName } from '../src/protocol';
import { ChartCard, canvasToPng } from './card';
import { runToCsv } from './csv';
import { Header } from './header';
import { ManyLinesChart } from './manyLines';
import { RunStore } from './store';
import { Tabs } from './tabs';
import { readTheme, watchTheme } from './theme';
import { Throttle } from './throttle';
import { CompareView } from './views/compare';
import { LandscapeView } from './views/landscape';
import type { View, ViewContext } from './views/context';
import { DepthView } from './views/depth';
import { DetailView } from './views/detail';
import { HeatmapsView } from './views/heatmaps';
import { OverviewView } from './views/overview';
import { errorMessage, reportJson } from '../src/protocol';

export type TabId = 'overview' | 'heatmaps' | 'depth' | 'detail' | 'landscape' | 'compare';
export interface UiState {
  tab: TabId;
  layer: number;
  depthStat: StatName;
}
export type HostApi = Pick<PanelHostFunctions, 'revealLayer' | 'saveExport' | 'applyCandidate'>;
export interface ExportData {
  suggestedName: string;
  data: string;
}

/** Minimum time between redraws: ≤ 30 per second. */
export const REDRAW_INTERVAL_MS = 34;
export const UPDATE_MEASURE = 'normscope:update';

export class App {
  private store: RunStore | undefined;
  private readonly ctx: ViewContext;
  private readonly header: Header;
  private readonly lossCard: ChartCard;
  private lossChart: ManyLinesChart | undefined;
  private lossDrawn = -1;
  private readonly tabs: Tabs<TabId>;
  private readonly views: Record<TabId, View>;
  private readonly depth: DepthView;
  private readonly detail: DetailView;
  private readonly compare: CompareView;
  private readonly throttle = new Throttle(() => this.redraw(false), REDRAW_INTERVAL_MS);
  private measures = 0;

  constructor(
    root: HTMLElement,
    private readonly host: HostApi,
    private readonly persist: (state: UiState) => void,
    initial?: Partial<UiState>,
  ) {
    const theme = readTheme();
    this.applyChartDefaults(theme);
    this.ctx = {
      theme,
      openLayer: (layer) => this.openLayer(layer),
      exportPng: (id) => void this.exportToHost('png', id),
      revealLayer: (layer) => (this.store ? this.host.revealLayer(this.store.run.runId, layer) : Promise.resolve(false)),
      applyCandidate: (norm) => this.host.applyCandidate(norm),
      saveState: () => this.saveState(),
    };
    this.header = new Header((kind) => void this.exportToHost(kind));
    this.lossCard = new ChartCard({ id: 'loss', title: 'Loss', height: 'small', onExport: (id) => this.ctx.exportPng(id) });
    this.depth = new DepthView(this.ctx);
    this.detail = new DetailView(this.ctx);
    this.compare = new CompareView(this.ctx);
    this.views = {
      overview: new OverviewView(this.ctx),
      heatmaps: new HeatmapsView(this.ctx),
      depth: this.depth,
      detail: this.detail,
      landscape: new LandscapeView(this.ctx),
      compare: this.compare,
    };
    this.tabs = new Tabs<TabId>(
      [
        { id: 'overview', label: 'Overview', panel: this.views.overview.element },
        { id: 'heatmaps', label: 'Heatmaps', panel: this.views.heatmaps.element },
        { id: 'depth', label: 'Depth profile', panel: this.depth.element },
        { id: 'detail', label: 'Layer detail', panel: this.detail.element },
        { id: 'landscape', label: 'Landscape', panel: this.views.landscape.element },
        { id: 'compare', label: 'Compare', panel: this.compare.element },
      ],
      () => {
        this.saveState();
        this.redraw(true);
      },
    );
    if (initial?.depthStat) this.depth.setStat(initial.depthStat);
    if (typeof initial?.layer === 'number') this.detail.layer = initial.layer;
    if (initial?.tab) this.tabs.select(initial.tab, false);
    root.append(this.header.element, this.header.banner, this.lossCard.element, this.tabs.list, this.tabs.panels);
    watchTheme(() => this.retheme());
    this.redraw(true);
  }

  /**
   * Apply one protocol message. Data is stored now; drawing follows within one redraw interval.
   * `live` is false for the replay from `ready()`: state is restored without switching tabs.
   */
  receive(message: PanelMessage, live = true): void {
    try {
      this.apply(message, live);
    } catch (e) {
      this.header.showProblem(errorMessage(e));
      console.error(e);
    }
  }

  private apply(message: PanelMessage, live: boolean): void {
    const store = this.store;
    const current = (runId: string) => store !== undefined && store.run.runId === runId;
    switch (message.type) {
      case 'run-started': {
        const next = new RunStore(message.run);
        next.add(message.samples ?? []);
        next.setFindings(message.findings ?? []);
        this.store = next;
        this.lossDrawn = -1;
        this.header.showProblem(undefined);
        for (const view of Object.values(this.views)) view.reset(next);
        this.throttle.request();
        return;
      }
      case 'samples':
        if (current(message.runId)) {
          store!.add(message.samples);
          this.throttle.request();
        }
        return;
      case 'findings':
        if (current(message.runId)) {
          store!.setFindings(message.findings);
          this.throttle.request();
        }
        return;
      // The run ended: draw the final state now rather than at the next tick.
      case 'run-done':
        if (current(message.runId)) {
          store!.setReport(message.report);
          this.throttle.request();
          this.throttle.flush();
        }
        return;
      case 'run-failed':
        if (current(message.runId)) {
          store!.setError(message.error);
          this.throttle.request();
          this.throttle.flush();
        }
        // A run that failed before its layer table (syntax error, no model exported) still gets explained.
        else this.header.showProblem(`Run failed: ${message.error.message}${message.error.line ? ` (line ${message.error.line})` : ''}`);
        return;
      case 'focus-layer':
        if (current(message.runId)) this.openLayer(message.layerIndex);
        return;
      case 'compare':
        this.showCompare(message.result, live);
        return;
      default:
        throw new Error(`NormScope panel: unknown message type '${(message as { type?: unknown }).type}'`);
    }
  }

  /** Data for an export, as the export buttons produce it (also used by the host's `exportData`). */
  exportData(kind: ExportKind, chartId = 'loss'): ExportData | null {
    const store = this.store;
    const base = store ? (store.run.file.split(/[\\/]/).pop() ?? 'run').replace(/\.[^.]*$/, '') : 'normscope';
    if (kind === 'csv') return store && store.size > 0 ? { suggestedName: `${base}-normscope.csv`, data: runToCsv(store) } : null;
    if (kind === 'json')
      return store?.report ? { suggestedName: `${base}-normscope.json`, data: JSON.stringify(reportJson(store.report), null, 2) } : null;
    const card = ChartCard.find(chartId);
    if (!card) throw new Error(`NormScope panel: no chart '${chartId}' to export (is its run or comparison loaded?)`);
    const tab = card.element.closest('[role="tabpanel"]')?.id.replace(/^panel-/, '') as TabId | undefined;
    if (tab && tab !== this.tabs.selected) this.tabs.select(tab, true);
    this.throttle.flush();
    // Off-screen cards are drawn lazily; draw this one now.
    card.onShown?.();
    if (card.canvas.width === 0 || card.canvas.height === 0) throw new Error(`NormScope panel: chart '${chartId}' has no size to export`);
    return { suggestedName: `${base}-${chartId}.png`, data: canvasToPng(card.canvas, this.ctx.theme.background) };
  }

  private async exportToHost(kind: ExportKind, chartId?: string): Promise<void> {
    const status = this.header.exportStatus;
    try {
      const data = this.exportData(kind, chartId);
      if (!data) {
        status.textContent = kind === 'json' ? 'The JSON report is available when the run has finished.' : 'Nothing to export yet.';
        return;
      }
      const path = await this.host.saveExport(kind, data.suggestedName, data.data);
      status.textContent = path ? `Saved ${path}` : 'Export cancelled.';
    } catch (e) {
      status.textContent = `Export failed: ${errorMessage(e)}`;
    }
  }

  private openLayer(layer: number): void {
    if (!this.store) return;
    this.tabs.select('detail', false);
    this.detail.show(layer);
    this.saveState();
    this.redraw(true);
  }

  private showCompare(result: CompareResult, live: boolean): void {
    this.compare.setResult(result);
    if (live) {
      this.tabs.select('compare', false);
      this.saveState();
    }
    this.redraw(true);
  }

  private saveState(): void {
    this.persist({ tab: this.tabs.selected, layer: this.detail.layer, depthStat: this.depth.stat });
  }

  /** Draw what changed: header, loss curve and the shown tab. */
  private redraw(force: boolean): void {
    const start = performance.now();
    const store = this.store;
    this.header.update(store);
    if (store && (force || this.lossDrawn !== store.version)) {
      this.lossDrawn = store.version;
      this.lossChart ??= new ManyLinesChart(this.lossCard, this.ctx.theme, { yTitle: 'loss' });
      this.lossChart.setData(
        store.steps,
        store.size,
        [
          {
            tag: 0,
            label: 'loss',
            color: this.ctx.theme.foreground,
            width: 1.5 * this.ctx.theme.lineScale,
            ys: store.loss.subarray(0, store.size),
          },
        ],
        { epoch: store.rewrites, xMax: store.axisEnd },
      );
    }
    const flagged = store ? new Set(store.findings.map((f) => f.layer).filter((l) => l !== null)).size : 0;
    this.tabs.setLabel('depth', flagged > 0 ? `Depth profile (${flagged} flagged)` : 'Depth profile');
    this.views[this.tabs.selected].render(force);
    const end = performance.now();
    if (++this.measures > 5000) {
      performance.clearMeasures(UPDATE_MEASURE);
      this.measures = 0;
    }
    performance.measure(UPDATE_MEASURE, { start, end });
  }

  private retheme(): void {
    const theme = readTheme();
    this.ctx.theme = theme;
    this.applyChartDefaults(theme);
    this.lossChart?.retheme(theme);
    this.lossDrawn = -1;
    for (const view of Object.values(this.views)) view.retheme();
    this.redraw(true);
  }

  private applyChartDefaults(theme: ReturnType<typeof readTheme>): void {
    Chart.defaults.color = theme.foreground;
    Chart.defaults.borderColor = theme.grid;
    const font = getComputedStyle(document.body).getPropertyValue('--vscode-font-family').trim();
    if (font) Chart.defaults.font.family = font;
  }
}
