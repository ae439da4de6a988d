/**
 * The parts of the Compare tab from issue 13: landscape curves per candidate overlaid (the top of each
 * band: loss-variation width, largest gradient change, effective β-smoothness) and the learning-rate sweep
 * as a heatmap-coloured table of inference-mode loss per norm × rate with the verdict.
 */
import type { CompareResult, LrSweep } from '../../src/protocol';
import { ChartCard } from '../card';
import { el, formatValue, layerTable, setChildren } from '../dom';
import { bandOf, LANDSCAPE_CURVES } from '../landscapeSeries';
import { ManyLinesChart } from '../manyLines';
import type { ViewContext } from './context';

export class CompareExtras {
  readonly element: HTMLElement;
  private readonly cards: ChartCard[];
  private readonly charts: (ManyLinesChart | undefined)[] = [];
  private readonly landscapeGrid: HTMLElement;
  private readonly sweepBox: HTMLElement;

  constructor(
    private readonly ctx: ViewContext,
    private readonly colors: string[],
  ) {
    this.cards = LANDSCAPE_CURVES.map(
      (c) =>
        new ChartCard({
          id: `compare-landscape-${c.curve}`,
          title: `${c.title} per candidate`,
          description:
            c.curve === 'losses' ? 'Width of the loss band (max − min) at each probed step.' : 'Top of the band at each probed step.',
          onExport: (id) => ctx.exportPng(id),
        }),
    );
    this.landscapeGrid = el('div', { className: 'chart-grid', testId: 'compare-landscape' }, ...this.cards.map((c) => c.element));
    this.sweepBox = el('div', { testId: 'compare-sweep' });
    this.element = el('div', {}, this.landscapeGrid, this.sweepBox);
  }

  render(result: CompareResult, epoch: number): void {
    const withLandscape = result.candidates.filter((c) => c.landscape);
    this.landscapeGrid.hidden = withLandscape.length === 0;
    if (withLandscape.length) {
      LANDSCAPE_CURVES.forEach((c, i) => {
        const chart = (this.charts[i] ??= new ManyLinesChart(this.cards[i], this.ctx.theme, { yTitle: c.yTitle, legend: true }));
        const bands = result.candidates.map((cand) =>
          cand.landscape ? bandOf(cand.landscape, c.curve) : { steps: [], low: [], high: [] },
        );
        const steps = [...new Set(bands.flatMap((b) => b.steps))].sort((a, b) => a - b);
        chart.setData(
          Float64Array.from(steps),
          steps.length,
          result.candidates.map((cand, k) => ({
            tag: k,
            label: cand.norm,
            color: this.colors[k % this.colors.length],
            width: 2 * this.ctx.theme.lineScale,
            ys: Float64Array.from(steps, (step) => {
              const j = bands[k].steps.indexOf(step);
              return j < 0 ? Number.NaN : c.curve === 'losses' ? bands[k].high[j] - bands[k].low[j] : bands[k].high[j];
            }),
          })),
          { epoch },
        );
      });
    }
    setChildren(this.sweepBox, ...(result.sweep ? sweepTable(result.sweep) : []));
  }

  retheme(): void {
    for (const chart of this.charts) chart?.retheme(this.ctx.theme);
  }
}

/** Cell shade from good (green) to bad (red) by log loss between the best cell and the worst. */
function shade(loss: number | null, best: number, worst: number): string {
  if (loss === null) return 'rgba(128,128,128,0.25)';
  const t = worst > best ? Math.min(1, Math.max(0, Math.log(loss / best) / Math.log(worst / best))) : 0;
  return `rgba(${Math.round(47 + t * 167)}, ${Math.round(179 - t * 120)}, 68, 0.35)`;
}

function sweepTable(sweep: LrSweep): HTMLElement[] {
  const losses = sweep.cells.map((c) => c.evalLoss).filter((v): v is number => v !== null && v > 0);
  const best = Math.min(...losses);
  const worst = Math.max(...losses);
  const rows = sweep.tolerance.map((t) =>
    el(
      'tr',
      { testId: 'sweep-row', attrs: { 'data-norm': t.variant } },
      el('td', {}, t.variant),
      ...sweep.learningRates.map((rate) => {
        const cell = sweep.cells.find((c) => c.variant === t.variant && c.learningRate === rate);
        const loss = cell?.evalLoss ?? null;
        const good = loss !== null && sweep.goodLoss !== null && loss <= sweep.goodLoss;
        const td = el(
          'td',
          { title: cell?.error ?? cell?.stoppedEarly ?? '' },
          loss === null ? 'failed' : `${formatValue(loss)}${good ? ' ✓' : ''}`,
        );
        td.style.backgroundColor = shade(loss, best, worst);
        return td;
      }),
      el('td', {}, String(t.goodRates)),
    ),
  );
  return [
    el('h3', {}, 'Learning-rate sensitivity (inference-mode loss)'),
    layerTable(['Norm', ...sweep.learningRates.map((r) => `lr ${formatValue(r)}`), 'Good rates'], el('tbody', {}, ...rows)),
    el(
      'p',
      { className: 'muted', testId: 'sweep-verdict' },
      `${sweep.message} ✓ = good: at most ${formatValue(sweep.goodLoss)}, half-way from the starting loss to the best cell.`,
    ),
  ];
}
