/**
 * Verdicts for a what-if comparison: which candidate norm trained best, and why the others did not.
 */
import type { CompareCandidate } from '../src/protocol';

export type VerdictKind = 'best' | 'ok' | 'unhealthy' | 'diverged' | 'failed';

export interface Verdict {
  norm: string;
  kind: VerdictKind;
  text: string;
}

const finite = (v: number | null | undefined): v is number => typeof v === 'number' && Number.isFinite(v);

/** One verdict per candidate, in the candidates' order. */
export function compareVerdicts(candidates: readonly CompareCandidate[]): Verdict[] {
  const errorsOf = (c: CompareCandidate) => c.findings.filter((f) => f.severity === 'error');
  const healthy = candidates.filter((c) => !c.error && finite(c.finalLoss) && errorsOf(c).length === 0);
  const best = healthy.reduce<CompareCandidate | undefined>(
    (acc, c) => (acc === undefined || (c.finalLoss as number) < (acc.finalLoss as number) ? c : acc),
    undefined,
  );
  return candidates.map((c): Verdict => {
    if (c.error) return { norm: c.norm, kind: 'failed', text: `Failed: ${c.error}` };
    if (!finite(c.finalLoss)) return { norm: c.norm, kind: 'diverged', text: 'Diverged: the loss became NaN or infinite' };
    const errors = errorsOf(c);
    if (errors.length > 0) {
      const kinds = [...new Set(errors.map((f) => f.kind))].join(', ');
      return { norm: c.norm, kind: 'unhealthy', text: `Trains, but with problems: ${kinds}` };
    }
    if (c === best) return { norm: c.norm, kind: 'best', text: 'Best: lowest final loss among healthy candidates' };
    const warnings = c.findings.filter((f) => f.severity === 'warning').length;
    return { norm: c.norm, kind: 'ok', text: warnings > 0 ? `Healthy, ${warnings} warning${warnings === 1 ? '' : 's'}` : 'Healthy' };
  });
}
