/** Text output of the landscape instrument and of `normscope compare --lrs` (inference-mode loss per norm × rate). */
import type { LandscapeReport } from '../protocol/landscape';
import type { LrSweep } from '../protocol/webview';

export function printSweep(sweep: LrSweep, write: (text: string) => void): void {
  const cell = (v: number | null, good: boolean) => (v === null ? 'failed' : `${v.toPrecision(3)}${good ? ' ✓' : ''}`);
  write(`\nLearning-rate sweep (inference-mode loss; ✓ = good, ≤ ${sweep.goodLoss?.toPrecision(3) ?? 'n/a'}):\n\n`);
  write(`  ${'norm'.padEnd(14)}${sweep.learningRates.map((r) => `lr ${r.toPrecision(2)}`.padStart(12)).join('')}\n`);
  for (const t of sweep.tolerance) {
    const row = sweep.learningRates.map((rate) => {
      const c = sweep.cells.find((x) => x.variant === t.variant && x.learningRate === rate);
      const v = c?.evalLoss ?? null;
      return cell(v, v !== null && sweep.goodLoss !== null && v <= sweep.goodLoss).padStart(12);
    });
    write(`  ${t.variant.padEnd(14)}${row.join('')}\n`);
  }
  write(`\n  ${sweep.message}\n`);
}

/** One line for `normscope check --landscape`: the run's mean band widths (README "Loss landscape"). */
export function landscapeLine(landscape: LandscapeReport): string {
  const f = (v: number | null) => (v === null ? 'n/a' : v.toPrecision(3));
  const s = landscape.summary;
  return (
    `\nLoss landscape (${landscape.samples.length} probes, every ${landscape.every} steps, ${landscape.stepSizes.join('/')}× η = ${landscape.learningRate}): ` +
    `loss variation ${f(s.lossSpan)} (${f(s.relativeLossSpan)} of the starting loss), gradient change ${f(s.gradChange)}, β-smoothness ${f(s.smoothness)}\n`
  );
}
