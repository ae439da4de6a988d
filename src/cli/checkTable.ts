/** The human-readable output of `normscope check`: a progress bar and the per-layer table. */
import { dirname, relative } from 'node:path';
import type { LayerReport, RunReport, StatName } from '../protocol';
import { formatFindings } from './lint';

/** One-line progress bar, redrawn in place with \r. */
export function progressLine(done: number, total: number, loss: number | null, width = 30): string {
  const fraction = total > 0 ? Math.min(1, done / total) : 0;
  const filled = Math.round(fraction * width);
  const lossText = loss === null || !Number.isFinite(loss) ? '' : `  loss ${formatNumber(loss)}`;
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total} steps${lossText}`;
}

export function formatNumber(v: number | null | undefined): string {
  if (v === null || v === undefined || Number.isNaN(v)) return '-';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  if (v === 0) return '0';
  const abs = Math.abs(v);
  // Trailing zeros of the fraction only: 100 stays 100, 1.50 becomes 1.5.
  return abs >= 1e4 || abs < 1e-3
    ? v.toExponential(2)
    : v
        .toPrecision(3)
        .replace(/(\.\d*?)0+$/, '$1')
        .replace(/\.$/, '');
}

const COLUMNS: [StatName, string][] = [
  ['mean', 'mean'],
  ['std', 'std'],
  ['gain', 'gain'],
  ['deadFraction', 'dead'],
  ['saturatedFraction', 'sat'],
  ['activationGradNorm', 'act-grad'],
  ['gradNorm', 'w-grad'],
  ['updateRatio', 'upd/w'],
];

/** The last sampled value of a statistic (the state the run ended in). */
function last(layer: LayerReport, stat: StatName): number | null {
  const series = layer.stats[stat];
  return series && series.length ? series[series.length - 1] : null;
}

export function formatReport(report: RunReport, cwdRelative: (file: string) => string): string {
  // A layer built in another file than the report's (the project's package a script imports), relative to the report's
  // file: `../../mingpt/model.py:145`.
  const elsewhere = (file: string) => (file === report.file ? undefined : `${relative(dirname(report.file), file)}:`);
  const header = ['layer', 'class', 'line', ...COLUMNS.map(([, title]) => title)];
  const rows = report.layers.map((layer) => [
    layer.name,
    layer.className,
    layer.source ? `${elsewhere(layer.source.file) ?? ''}${layer.source.line}` : '-',
    ...COLUMNS.map(([stat]) => formatNumber(last(layer, stat))),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 3 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const finalLoss = report.loss.length ? report.loss[report.loss.length - 1] : null;
  const out = [
    `${cwdRelative(report.file)}: ${report.steps} steps, batch ${report.batchSize}, backend ${report.backend}` +
      `${report.syntheticData ? ', synthetic data (export normscope.data to use your own)' : ''}`,
    ...report.backendNotes.map((n) => `  (${n})`),
    `loss ${formatNumber(report.loss[0] ?? null)} → ${formatNumber(finalLoss)}${report.stoppedEarly ? `  (stopped early: ${report.stoppedEarly})` : ''}`,
    '',
    line(header),
    ...rows.map(line),
    '',
    formatFindings(cwdRelative(report.file), report.findings, elsewhere).trimEnd(),
    `step ${formatNumber(report.timing.instrumentedStepMs)} ms instrumented` +
      (report.timing.plainStepMs !== null ? `, ${formatNumber(report.timing.plainStepMs)} ms plain` : '') +
      `, ${formatNumber(report.timing.totalMs / 1000)} s total`,
  ];
  return `${out.join('\n')}\n`;
}
