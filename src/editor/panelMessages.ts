/** RunEvent (worker) → PanelMessage (webview). Pure. */
import type { BackendReport } from '../protocol/run';
import type { PanelMessage } from '../protocol/webview';
import type { RunEvent } from '../protocol/worker';

/**
 * @param backend the run's backend (from its earlier `backend` event), carried into `run-started`.
 */
export function toPanelMessage(event: RunEvent, backend?: BackendReport): PanelMessage | undefined {
  switch (event.type) {
    case 'backend': return undefined;
    case 'layers':
      return {
        type: 'run-started',
        run: { runId: event.runId, file: event.file, backend, layers: event.layers, statNames: event.statNames, steps: event.steps, batchSize: event.batchSize, syntheticData: event.syntheticData },
        samples: [],
        flags: [],
      };
    case 'progress': return { type: 'samples', runId: event.runId, samples: event.samples };
    case 'flags': return { type: 'flags', runId: event.runId, flags: event.flags };
    case 'done': return { type: 'run-done', runId: event.runId, report: event.report };
    case 'error': return { type: 'run-failed', runId: event.runId, error: event.error };
  }
}
