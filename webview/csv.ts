/**
 * CSV export of a run: one row per layer × sampled step. No CSV library is installed, so
 * quoting follows RFC 4180 in `csvField` (quote fields with `"`, `,`, CR or LF; double inner quotes;
 * CRLF line ends). Missing values (NaN) are empty fields.
 */
import type { RunStore } from './store';

export function csvField(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

export function csvRow(fields: readonly (string | number | null | undefined)[]): string {
  return fields.map(csvField).join(',');
}

/** Column names of `runToCsv`: fixed columns, then the run's statistics in its own order. */
export function csvHeader(store: RunStore): string[] {
  return ['step', 'loss', 'stepMs', 'layerIndex', 'layerName', 'layerClass', ...store.run.statNames];
}

/** The whole run as CSV text (header + layers × steps rows, step-major). */
export function runToCsv(store: RunStore): string {
  const lines = [csvRow(csvHeader(store))];
  const columns = store.run.layers.map((_, layer) => store.run.statNames.map((stat) => store.series(stat, layer)));
  for (let i = 0; i < store.size; i++) {
    for (let layer = 0; layer < store.layerCount; layer++) {
      const info = store.run.layers[layer];
      const fields: (string | number)[] = [store.steps[i], store.loss[i], store.stepMs[i], info.index, info.name, info.className];
      for (const series of columns[layer]) fields.push(series[i]);
      lines.push(csvRow(fields));
    }
  }
  return lines.join('\r\n') + '\r\n';
}
