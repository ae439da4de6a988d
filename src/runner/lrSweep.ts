/**
 * Learning-rate sensitivity (issue 13): train each variant at several learning rates (same data, seed and
 * steps), take the inference-mode loss of each (RunReport.evalLoss) and say which variant reaches a good
 * loss over the widest range of rates. Host side, no vscode; the worker sets the rate (RunOptions.learningRate).
 */
import type { RunOptions, RunReport } from '../protocol/run';
import type { LrSweep, LrSweepCell, LrTolerance } from '../protocol/webview';
import { errorMessage } from '../protocol';

/** Default sweep: this many rates, geometrically spaced over SWEEP_RANGE× centred (in log scale) on the model's own. */
export const SWEEP_RATES = 4;
export const SWEEP_RANGE = 30;
/** A cell is good when its loss closed at least this share of the gap between the starting loss and the best cell. */
export const GOOD_GAP_CLOSED = 0.5;

/** `count` rates from base/√range to base·√range, equal ratios (4 over 30×: 0.18, 0.57, 1.8, 5.5 × base). */
export function defaultRates(base: number, count = SWEEP_RATES, range = SWEEP_RANGE): number[] {
  const lo = base / Math.sqrt(range);
  return Array.from({ length: count }, (_, k) => Number((lo * range ** (count > 1 ? k / (count - 1) : 0.5)).toPrecision(3)));
}

/** `--lrs 1e-4,1e-3,1e-2` → sorted positive rates; throws naming the bad entry. */
export function parseRates(text: string): number[] {
  const rates = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const n = Number(s);
      if (!(Number.isFinite(n) && n > 0)) throw new Error(`learning rate '${s}' is not a positive number`);
      return n;
    });
  if (rates.length < 2) throw new Error('give at least two learning rates, comma-separated');
  return [...new Set(rates)].sort((a, b) => a - b);
}

/**
 * Good-loss threshold: best + GOOD_GAP_CLOSED·(start − best), where best is the lowest loss of any cell and
 * start the median first-step training loss. Scale-free, so it works for any loss function.
 */
export function goodThreshold(cells: LrSweepCell[]): number | null {
  const losses = cells.map((c) => c.evalLoss).filter((v): v is number => v !== null && Number.isFinite(v));
  const starts = cells
    .map((c) => c.startLoss)
    .filter((v): v is number => v !== null && Number.isFinite(v))
    .sort((a, b) => a - b);
  if (!losses.length || !starts.length) return null;
  const best = Math.min(...losses);
  const start = starts[starts.length >> 1];
  return best + GOOD_GAP_CLOSED * Math.max(0, start - best);
}

/** Per variant, the longest run of neighbouring rates that all reach a good loss. */
export function tolerances(cells: LrSweepCell[], rates: number[], variants: string[], threshold: number | null): LrTolerance[] {
  return variants.map((variant) => {
    let best: [number, number] | null = null;
    let runStart = -1;
    rates.forEach((rate, i) => {
      const cell = cells.find((c) => c.variant === variant && c.learningRate === rate);
      const good = threshold !== null && cell?.evalLoss !== null && cell?.evalLoss !== undefined && cell.evalLoss <= threshold;
      if (!good) {
        runStart = -1;
        return;
      }
      if (runStart < 0) runStart = i;
      if (!best || i - runStart > best[1] - best[0]) best = [runStart, i];
    });
    const range = best as [number, number] | null;
    return {
      variant,
      goodRates: range ? range[1] - range[0] + 1 : 0,
      low: range ? rates[range[0]] : null,
      high: range ? rates[range[1]] : null,
    };
  });
}

function meanLoss(cells: LrSweepCell[], variant: string): number {
  const values = cells.filter((c) => c.variant === variant && c.evalLoss !== null).map((c) => c.evalLoss as number);
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : Infinity;
}

/** The verdict: the variant with the most neighbouring good rates (ties: lower mean loss over the sweep). */
export function verdictOf(cells: LrSweepCell[], tolerance: LrTolerance[]): { best: string | null; message: string } {
  const ranked = [...tolerance].sort((a, b) => b.goodRates - a.goodRates || meanLoss(cells, a.variant) - meanLoss(cells, b.variant));
  const top = ranked[0];
  if (!top || top.goodRates === 0) return { best: null, message: 'No variant reached a good loss at any rate of the sweep.' };
  const fmt = (t: LrTolerance) =>
    t.goodRates === 0 ? `${t.variant}: none` : `${t.variant}: ${t.goodRates} (${t.low!.toPrecision(2)}–${t.high!.toPrecision(2)})`;
  return {
    best: top.variant,
    message: `${top.variant} tolerates the widest range of learning rates. Rates reaching a good loss: ${ranked.map(fmt).join('; ')}.`,
  };
}

export interface SweepVariant {
  variant: string;
  options: RunOptions;
}

/** Runs every variant at every rate through `run` (one worker run each) and builds the table and verdict. */
export async function sweepLearningRates(
  run: (options: RunOptions) => Promise<RunReport>,
  variants: SweepVariant[],
  rates: number[],
  signal?: AbortSignal,
  onCell?: (variant: string, rate: number) => void,
): Promise<LrSweep> {
  const cells: LrSweepCell[] = [];
  for (const { variant, options } of variants) {
    for (const rate of rates) {
      if (signal?.aborted) break;
      onCell?.(variant, rate);
      try {
        const report = await run({ ...options, learningRate: rate });
        cells.push({
          variant,
          learningRate: rate,
          evalLoss: report.evalLoss,
          startLoss: report.loss[0] ?? null,
          ...(report.stoppedEarly ? { stoppedEarly: report.stoppedEarly } : {}),
        });
      } catch (e) {
        cells.push({ variant, learningRate: rate, evalLoss: null, startLoss: null, error: errorMessage(e) });
      }
    }
  }
  const threshold = goodThreshold(cells);
  const tolerance = tolerances(
    cells,
    rates,
    variants.map((v) => v.variant),
    threshold,
  );
  return { learningRates: rates, cells, goodLoss: threshold, tolerance, ...verdictOf(cells, tolerance) };
}
