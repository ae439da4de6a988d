/**
 * Findings for the samples so far, from the detectors (./detectors). A detector bug must not
 * cost the user the run's measurements, so a throw becomes an empty list plus a log line.
 */
import type { Finding } from '../protocol';
import { detectFindings, type DetectorInput } from './detectors';

export function findingsFor(input: DetectorInput, log?: (message: string) => void): Finding[] {
  try {
    return detectFindings(input);
  } catch (e) {
    log?.(`detectors failed: ${(e as Error).stack ?? String(e)}`);
    return [];
  }
}
