/**
 * Compare tab: a what-if run of several norm layers at one place in the model. Loss and
 * gradient-norm curves per candidate, a verdict table, and "Apply" to rewrite the source.
 */
import type { CompareResult, NormKind } from '../../src/protocol';
import { ChartCard } from '../card';
import { el, formatValue, layerTable, setChildren } from '../dom';
import { ManyLinesChart } from '../manyLines';
import type { RunStore } from '../store';
import { compareVerdicts } from '../verdict';
import type { View, ViewContext } from './context';
import { CompareExtras } from './compareExtras';
import { errorMessage } from '../../src/protocol';

const COLORS = ['#3794ff', '#e5a50a', '#2fb344', '#d63b3b', '#a371f7', '#00b7c3'];

export class CompareView implements View {
  readonly element: HTMLElement;
  private readonly intro: HTMLElement;
  private readonly table: HTMLTableSectionElement;
  private readonly status: HTMLElement;
  private readonly extras: CompareExtras;
  private readonly lossCard: ChartCard;
  private readonly gradCard: ChartCard;
  private lossChart: ManyLinesChart | undefined;
  private gradChart: ManyLinesChart | undefined;
  private result: CompareResult | undefined;
  private drawn: CompareResult | undefined;
  /** Bumped per result: the charts' decimation cache must not reuse another result's points. */
  private epoch = 0;

  constructor(private readonly ctx: ViewContext) {
    this.intro = el(
      'p',
      { className: 'empty', testId: 'compare-intro' },
      'No comparison yet. Use the "Compare norms" code action on a layer to train the same model with each candidate norm.',
    );
    this.lossCard = new ChartCard({ id: 'compare-loss', title: 'Loss per candidate', onExport: (id) => ctx.exportPng(id) });
    this.gradCard = new ChartCard({
      id: 'compare-gradNorm',
      title: 'Total gradient norm per candidate',
      onExport: (id) => ctx.exportPng(id),
    });
    this.table = el('tbody', { testId: 'compare-table' });
    this.status = el('p', { className: 'muted', testId: 'compare-status', attrs: { role: 'status' } });
    this.extras = new CompareExtras(ctx, COLORS);
    this.element = el(
      'div',
      {},
      this.intro,
      el('div', { className: 'chart-grid' }, this.lossCard.element, this.gradCard.element),
      layerTable(['Norm', 'Final loss', 'Findings', 'Verdict', ''], this.table),
      this.status,
      this.extras.element,
    );
  }

  /** Comparisons are independent of runs; a new run does not clear them. */
  reset(_store: RunStore | undefined): void {}

  setResult(result: CompareResult): void {
    this.result = result;
    this.epoch++;
  }

  render(force: boolean): void {
    const result = this.result;
    this.intro.hidden = result !== undefined;
    if (!result || (!force && this.drawn === result)) return;
    this.drawn = result;
    this.lossChart ??= new ManyLinesChart(this.lossCard, this.ctx.theme, { yTitle: 'loss', legend: true });
    this.gradChart ??= new ManyLinesChart(this.gradCard, this.ctx.theme, { yTitle: 'grad norm', legend: true });
    for (const [chart, pick] of [
      [this.lossChart, 'loss'],
      [this.gradChart, 'gradNorm'],
    ] as const) {
      // Candidates may stop at different steps (divergence): pad every curve to the longest with gaps.
      const n = Math.max(0, ...result.candidates.map((c) => c[pick].length));
      chart.setData(
        Float64Array.from({ length: n }, (_, k) => k),
        n,
        result.candidates.map((c, i) => ({
          tag: i,
          label: c.norm,
          color: COLORS[i % COLORS.length],
          width: 2 * this.ctx.theme.lineScale,
          ys: Float64Array.from({ length: n }, (_, k) => c[pick][k] ?? Number.NaN),
        })),
        { epoch: this.epoch },
      );
    }
    this.extras.render(result, this.epoch);
    const verdicts = compareVerdicts(result.candidates);
    setChildren(
      this.table,
      ...result.candidates.map((c, i) => {
        const verdict = verdicts[i];
        const apply = el(
          'button',
          { testId: `apply-${c.norm}`, attrs: { type: 'button' }, title: `Rewrite ${result.file}:${result.line} to use ${c.norm}` },
          'Apply',
        );
        apply.disabled = verdict.kind === 'failed';
        apply.addEventListener('click', () => void this.apply(c.norm, apply));
        const swatch = el('span', { className: 'swatch', attrs: { 'aria-hidden': 'true' } });
        swatch.style.backgroundColor = COLORS[i % COLORS.length];
        return el(
          'tr',
          { testId: 'compare-row', attrs: { 'data-norm': c.norm, 'data-verdict': verdict.kind } },
          el('td', {}, swatch, ' ', c.norm),
          el('td', {}, formatValue(c.finalLoss)),
          el('td', {}, c.findings.length ? [...new Set(c.findings.map((f) => f.kind))].join(', ') : 'none'),
          el('td', { className: `verdict ${verdict.kind}` }, verdict.text),
          el('td', {}, apply),
        );
      }),
    );
  }

  retheme(): void {
    this.lossChart?.retheme(this.ctx.theme);
    this.gradChart?.retheme(this.ctx.theme);
    this.extras.retheme();
    this.drawn = undefined;
  }

  private async apply(norm: NormKind, btn: HTMLButtonElement): Promise<void> {
    btn.disabled = true;
    this.status.textContent = `Applying ${norm}…`;
    try {
      const ok = await this.ctx.applyCandidate(norm);
      this.status.textContent = ok ? `Applied ${norm}.` : `Could not apply ${norm}: the source changed or the edit was refused.`;
    } catch (e) {
      this.status.textContent = `Could not apply ${norm}: ${errorMessage(e)}`;
    } finally {
      btn.disabled = false;
    }
  }
}
