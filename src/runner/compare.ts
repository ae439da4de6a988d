/**
 * What-if comparison of normalizations: the same model, data, seed and steps, once per candidate norm
 * (the layer at one source line swapped in memory by the worker), then a verdict. Host side, no vscode.
 */
import type { NormKind, RunOptions, RunReport } from '../protocol/run';
import type { CompareCandidate, CompareResult } from '../protocol/webview';
import { defaultRates, sweepLearningRates } from './lrSweep';
import type { RunEvent } from '../protocol/worker';
import type { WorkerClient } from './workerClient';
import type { PythonClient } from './pythonClient';
import { runErrorOf } from '../protocol';

export interface CompareOptions extends Omit<RunOptions, 'normSwap' | 'learningRate'> {
  line: number;
  candidates: NormKind[];
  /** Learning-rate sweep: explicit rates, 'auto' (lrSweep.defaultRates around the model's own), or none when absent. */
  learningRates?: number[] | 'auto';
}

/** Mean over layers of the weight-gradient norm at each sampled step: one curve per candidate. */
export function meanGradNormSeries(report: RunReport): (number | null)[] {
  const series = report.layers.map((l) => l.stats.gradNorm ?? []).filter((s) => s.some((v) => v !== null && Number.isFinite(v)));
  const length = Math.max(0, ...series.map((s) => s.length));
  const out: (number | null)[] = [];
  for (let i = 0; i < length; i++) {
    const values = series.map((s) => s[i]).filter((v): v is number => v !== null && v !== undefined && Number.isFinite(v));
    out.push(values.length ? values.reduce((a, b) => a + b, 0) / values.length : null);
  }
  return out;
}

/** Mean of the last quarter of the training-loss curve: less noisy than the very last step. */
export function finalLoss(loss: (number | null)[]): number | null {
  const finite = loss.filter((v): v is number => v !== null && Number.isFinite(v));
  if (finite.length === 0 || finite.length < loss.length) return null;
  const tail = finite.slice(-Math.max(1, Math.ceil(finite.length / 4)));
  return tail.reduce((a, b) => a + b, 0) / tail.length;
}

/** Candidates ordered best first: finished runs by final loss, then fewer error findings; failures last. */
export function rankCandidates(candidates: CompareCandidate[]): CompareCandidate[] {
  const errors = (c: CompareCandidate) => c.findings.filter((f) => f.severity === 'error').length;
  return [...candidates].sort((a, b) => {
    if ((a.finalLoss === null) !== (b.finalLoss === null)) return a.finalLoss === null ? 1 : -1;
    return errors(a) - errors(b) || (a.finalLoss ?? 0) - (b.finalLoss ?? 0);
  });
}

export async function compareNorms(
  client: Pick<WorkerClient | PythonClient, 'run'>,
  options: CompareOptions,
  onCandidate?: (norm: NormKind, index: number, event?: RunEvent) => void,
  signal?: AbortSignal,
  onSweepCell?: (norm: string, learningRate: number) => void,
): Promise<CompareResult> {
  const { line, candidates, learningRates, ...run } = options;
  const results: CompareCandidate[] = [];
  let ownRate: number | undefined;
  for (const [i, norm] of candidates.entries()) {
    if (signal?.aborted) break;
    onCandidate?.(norm, i);
    try {
      const report = await client.run({ ...run, normSwap: { line, to: norm } }, (e) => onCandidate?.(norm, i, e), signal);
      ownRate ??= report.learningRate;
      results.push({
        norm,
        finalLoss: report.evalLoss,
        trainLoss: finalLoss(report.loss),
        loss: report.loss,
        gradNorm: meanGradNormSeries(report),
        findings: report.findings,
        ...(report.stoppedEarly ? { stoppedEarly: report.stoppedEarly } : {}),
        ...(report.landscape ? { landscape: report.landscape } : {}),
      });
    } catch (e) {
      const error = runErrorOf(e);
      results.push({ norm, finalLoss: null, trainLoss: null, loss: [], gradNorm: [], findings: [], error: error.message });
      // A line with no norm layer fails the same way for every candidate: stop there.
      if (error.code === 'no-norm-at-line') return { file: options.file, line, candidates: results, stopped: error.message };
    }
  }
  const rates = learningRates === 'auto' ? (ownRate !== undefined ? defaultRates(ownRate) : undefined) : learningRates;
  const ran = results.filter((c) => !c.error).map((c) => c.norm);
  if (!rates || ran.length === 0 || signal?.aborted) return { file: options.file, line, candidates: rankCandidates(results) };
  // The sweep needs only the final loss of each cell: no landscape probes, measure every 10th step.
  const sweepRun = { ...run, landscape: undefined, samplingInterval: Math.max(run.samplingInterval, 10) };
  const sweep = await sweepLearningRates(
    (o) => client.run(o, () => {}, signal),
    ran.map((norm) => ({ variant: norm, options: { ...sweepRun, normSwap: { line, to: norm } } })),
    rates,
    signal,
    onSweepCell,
  );
  return { file: options.file, line, candidates: rankCandidates(results), sweep };
}
