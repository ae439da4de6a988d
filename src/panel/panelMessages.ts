/** What the panel is sent: worker events translated, and the replay that brings a fresh panel up to date. Pure. */
import type { BackendReport, Finding, StepSample } from '../protocol/run';
import type { PanelMessage, PanelRun, RunStartedMessage } from '../protocol/webview';
import type { RunEvent } from '../protocol/worker';
import type { FileRun } from '../host/runResults';

/** `run-started` for a run; only the PanelRun fields are copied (a FileRun carries more). */
function runStarted(run: PanelRun, samples: StepSample[], findings: Finding[]): RunStartedMessage {
  const { runId, file, backend, layers, statNames, steps, batchSize, syntheticData } = run;
  return { type: 'run-started', run: { runId, file, backend, layers, statNames, steps, batchSize, syntheticData }, samples, findings };
}

/**
 * @param backend the run's backend (from its earlier `backend` event), carried into `run-started`.
 */
export function toPanelMessage(event: RunEvent, backend?: BackendReport): PanelMessage | undefined {
  switch (event.type) {
    case 'backend':
      return undefined;
    case 'layers':
      return runStarted({ ...event, backend }, [], []);
    case 'progress':
      return { type: 'samples', runId: event.runId, samples: event.samples };
    case 'findings':
      return { type: 'findings', runId: event.runId, findings: event.findings };
    case 'done':
      return { type: 'run-done', runId: event.runId, report: event.report };
    case 'error':
      return { type: 'run-failed', runId: event.runId, error: event.error };
  }
}

/** Messages that bring a freshly opened panel up to date with a run. */
export function replay(run: FileRun): PanelMessage[] {
  const out: PanelMessage[] = [];
  if (run.layers.length) out.push(runStarted(run, run.samples, run.findings));
  if (run.report) out.push({ type: 'run-done', runId: run.runId, report: run.report });
  if (run.error) out.push({ type: 'run-failed', runId: run.runId, error: run.error });
  return out;
}
