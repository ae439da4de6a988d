/**
 * A detector that throws must not make a model look healthy: its failure costs only its own findings, and
 * the run gets a `detector-failed` finding naming it (shown wherever findings are) plus a log line with the
 * stack. Detector bugs are NormScope's, so the finding asks for a report rather than blaming the model.
 */
import type { Finding } from '../../protocol/run';

export type DetectorLog = (message: string) => void;

/** The finding that says `detector` failed and which findings may be missing because of it. */
export function detectorFailed(detector: string, error: unknown): Finding {
  const reason = error instanceof Error ? error.message : String(error);
  return {
    kind: 'detector-failed',
    severity: 'warning',
    layer: null,
    step: null,
    message:
      `NormScope's ${detector} detector failed (${reason}), so this run may have ${detector} problems that are not shown. ` +
      'The measurements and the other detectors are unaffected.',
    fix: 'This is a NormScope bug: please report it with the model file and the NormScope log (Output → NormScope).',
    source: null,
  };
}

/** Runs detectors one by one, collecting a `detector-failed` finding for each that throws. */
export class DetectorGuard {
  readonly failures: Finding[] = [];

  constructor(private readonly log?: DetectorLog) {}

  run(detector: string, detect: () => Finding[]): Finding[] {
    try {
      return detect();
    } catch (e) {
      this.log?.(`the ${detector} detector failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      this.failures.push(detectorFailed(detector, e));
      return [];
    }
  }
}
