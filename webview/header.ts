/**
 * The header line: file, progress, backend, step time, the synthetic-data notice, run exports,
 * and a banner for a failed run. Fields wrap as whole units at narrow widths rather than being cut (media/panel.css).
 */
import type { ExportKind } from '../src/protocol';
import { button, el, formatValue } from './dom';
import type { RunStore } from './store';

export class Header {
  readonly element: HTMLElement;
  readonly banner: HTMLElement;
  readonly exportStatus: HTMLElement;
  private readonly file = el('span', { className: 'file', testId: 'run-file' });
  private readonly status = el('span', { testId: 'run-status', attrs: { role: 'status', 'aria-live': 'polite' } });
  private readonly backend = el('span', { testId: 'backend' });
  private readonly stepTime = el('span', { testId: 'step-time' });
  private readonly synthetic = el(
    'span',
    { className: 'notice', testId: 'synthetic-notice' },
    'Synthetic data: the model file provides no data, so NormScope trains on random inputs and labels. Read the loss as optimisation health, not accuracy.',
  );
  private readonly csv: HTMLButtonElement;
  private runError: string | undefined;
  private problem: string | undefined;
  private readonly json: HTMLButtonElement;

  constructor(onExport: (kind: Exclude<ExportKind, 'png'>) => void) {
    this.csv = button('Export CSV', 'export-csv', () => onExport('csv'), 'Every statistic of every layer at every sampled step');
    this.json = button('Export JSON', 'export-json', () => onExport('json'), 'The run report (same schema as `normscope check --json`)');
    this.exportStatus = el('span', { className: 'muted', testId: 'export-status', attrs: { role: 'status' } });
    this.banner = el('div', { className: 'banner', testId: 'error-banner', attrs: { role: 'alert' } });
    this.banner.hidden = true;
    this.element = el(
      'header',
      { className: 'run-header', testId: 'header' },
      el(
        'div',
        { className: 'header-line' },
        this.file,
        this.status,
        this.backend,
        this.stepTime,
        el('span', { className: 'spacer' }),
        this.csv,
        this.json,
        this.exportStatus,
      ),
      el('div', { className: 'header-line notice-line' }, this.synthetic),
    );
    this.update(undefined);
  }

  update(store: RunStore | undefined): void {
    this.csv.disabled = !store || store.size === 0;
    this.json.disabled = !store?.report;
    this.json.title = store?.report ? 'The run report (same schema as `normscope check --json`)' : 'Available when the run has finished';
    if (!store) {
      this.file.textContent = '';
      this.status.textContent = 'No run yet';
      this.backend.textContent = '';
      this.stepTime.textContent = '';
      this.synthetic.hidden = true;
      this.setRunError(undefined);
      return;
    }
    const { run, report, error } = store;
    this.file.textContent = run.file.split(/[\\/]/).pop() ?? run.file;
    this.file.title = run.file;
    const lastStep = store.size > 0 ? store.steps[store.size - 1] : 0;
    this.status.textContent = error
      ? 'Failed'
      : report?.stoppedEarly
        ? `Stopped early at step ${lastStep}: ${report.stoppedEarly}`
        : report
          ? `Done: ${report.steps} steps in ${(report.timing.totalMs / 1000).toFixed(1)} s`
          : run.followed
            ? `Following: step ${lastStep}`
            : `Training: step ${lastStep} of ${run.steps}`;
    const backend = report?.backend ?? run.backend?.name;
    this.backend.textContent = backend ? `Backend: ${backend}` : 'Backend: starting…';
    this.backend.title = (report?.backendNotes ?? run.backend?.notes ?? []).join('\n');
    this.stepTime.textContent = report
      ? `${formatValue(report.timing.instrumentedStepMs)} ms/step instrumented${report.timing.plainStepMs !== null ? `, ${formatValue(report.timing.plainStepMs)} plain` : ''}`
      : store.size > 0
        ? `${formatValue(recentMedian(store.stepMs, store.size))} ms/step`
        : '';
    this.synthetic.hidden = !run.syntheticData;
    this.setRunError(
      error
        ? `Run failed — ${error.code}: ${error.message}${error.file ? ` (${error.file}${error.line ? `:${error.line}` : ''})` : ''}`
        : undefined,
    );
  }

  /** Show a problem of the panel itself (bad message, failed export); stays until the next run. */
  showProblem(text: string | undefined): void {
    this.problem = text;
    this.renderBanner();
  }

  private setRunError(text: string | undefined): void {
    if (text === this.runError) return;
    this.runError = text;
    this.renderBanner();
  }

  private renderBanner(): void {
    const lines = [this.runError, this.problem].filter((t): t is string => t !== undefined);
    this.banner.textContent = lines.join('\n');
    this.banner.hidden = lines.length === 0;
  }
}

/** Median of the last 20 finite values (robust to one slow step). */
function recentMedian(values: Float64Array, n: number): number {
  const recent = Array.from(values.subarray(Math.max(0, n - 20), n))
    .filter(Number.isFinite)
    .sort((a, b) => a - b);
  return recent.length ? recent[Math.floor(recent.length / 2)] : Number.NaN;
}
