/** Messages that bring a freshly opened panel up to date with a run. Pure. */
import type { PanelMessage } from '../protocol/webview';
import type { FileRun } from './runResults';

export function replay(run: FileRun): PanelMessage[] {
  const out: PanelMessage[] = [];
  if (run.layers.length) {
    out.push({
      type: 'run-started',
      run: { runId: run.runId, file: run.file, backend: run.backend, layers: run.layers, statNames: run.statNames, steps: run.steps, batchSize: run.batchSize, syntheticData: run.syntheticData },
      samples: run.samples,
      flags: run.flags,
    });
  }
  if (run.report) out.push({ type: 'run-done', runId: run.runId, report: run.report });
  if (run.error) out.push({ type: 'run-failed', runId: run.runId, error: run.error });
  return out;
}
