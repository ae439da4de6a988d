/**
 * Findings for the samples so far, from the detectors (./detectors). A detector bug must not
 * cost the user the run's measurements, so a throw becomes an empty list plus a log line.
 */
import type { Finding } from '../protocol';
import { detectFindings, type DetectorInput } from './detectors';
import { DEFAULT_THRESHOLDS, type DetectorThresholds } from './detectors/thresholds';
import { UserCodeError } from './errors';

/** Validates threshold overrides from the settings / `--threshold`: known names, finite numbers. */
export function checkThresholds(overrides: Record<string, number> | undefined): Partial<DetectorThresholds> {
  const out: Partial<DetectorThresholds> = {};
  for (const [name, value] of Object.entries(overrides ?? {})) {
    if (!(name in DEFAULT_THRESHOLDS)) {
      throw new UserCodeError(
        'bad-options',
        `unknown detector threshold '${name}'; known: ${Object.keys(DEFAULT_THRESHOLDS).join(', ')}`,
        null,
      );
    }
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new UserCodeError(
        'bad-options',
        `detector threshold '${name}' must be a non-negative number, got ${JSON.stringify(value)}`,
        null,
      );
    }
    out[name as keyof DetectorThresholds] = value;
  }
  return out;
}

export function findingsFor(input: DetectorInput, thresholds?: Partial<DetectorThresholds>, log?: (message: string) => void): Finding[] {
  try {
    return detectFindings(input, thresholds);
  } catch (e) {
    log?.(`detectors failed: ${(e as Error).stack ?? String(e)}`);
    return [];
  }
}
