/**
 * Findings for the samples so far, from the detectors (./detectors). A detector bug must neither cost the
 * user the run's measurements nor look like a healthy model: it becomes a `detector-failed` finding plus a
 * log line (an error-level log event the host writes to its log).
 */
import { RunFailedError, type Finding, type WorkerEvent } from '../protocol';
import { detectFindings, detectorFailed, type DetectorInput, type DetectorLog } from './detectors';
import { DEFAULT_THRESHOLDS, type DetectorThresholds } from './detectors/thresholds';

/** Validates threshold overrides from the settings / `--threshold`: known names, finite numbers ('bad-options' if not). */
export function checkThresholds(overrides: Record<string, number> | undefined): Partial<DetectorThresholds> {
  const out: Partial<DetectorThresholds> = {};
  for (const [name, value] of Object.entries(overrides ?? {})) {
    if (!(name in DEFAULT_THRESHOLDS)) {
      throw new RunFailedError({
        code: 'bad-options',
        message: `unknown detector threshold '${name}'; known: ${Object.keys(DEFAULT_THRESHOLDS).join(', ')}`,
      });
    }
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new RunFailedError({
        code: 'bad-options',
        message: `detector threshold '${name}' must be a non-negative number, got ${JSON.stringify(value)}`,
      });
    }
    out[name as keyof DetectorThresholds] = value;
  }
  return out;
}

/** The findings of the samples so far; a detector failure becomes a `detector-failed` finding and a log line. */
export function findingsFor(input: DetectorInput, thresholds?: Partial<DetectorThresholds>, log?: DetectorLog): Finding[] {
  try {
    return detectFindings(input, thresholds, log);
  } catch (e) {
    // Outside any one detector (the shared statistics): every dynamic finding is missing.
    log?.(`the detectors failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    return [detectorFailed('run-statistics', e)];
  }
}

/**
 * The detectors' log for one run: error-level `log` events, which the worker forwards to the host's log.
 * Findings are recomputed at every progress batch, so each failure is sent once: keyed by its first line
 * (which detector, which error), since the stack below it differs with the caller (a batch or the final flush).
 */
export function detectorLog(emit: (event: WorkerEvent) => void, runId: string): DetectorLog {
  const sent = new Set<string>();
  return (message) => {
    const failure = message.split('\n', 1)[0];
    if (sent.has(failure)) return;
    sent.add(failure);
    emit({ type: 'log', level: 'error', message: `run ${runId}: ${message}` });
  };
}
