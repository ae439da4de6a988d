/** One-line summaries of a run ("2 dead · 1 exploding · backend wasm"). Pure. */
import type { Finding } from '../protocol/run';
import type { FileRun } from '../host/runResults';

export function countByKind(findings: readonly Finding[]): [string, number][] {
  const counts = new Map<string, number>();
  for (const f of findings) counts.set(f.kind, (counts.get(f.kind) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

export function runSummary(run: FileRun): string {
  if (run.status === 'failed') return `$(error) run failed: ${run.error?.message.split('\n')[0] ?? 'unknown error'}`;
  if (run.status === 'starting' || run.status === 'running') {
    const step = run.samples.length ? run.samples[run.samples.length - 1].step + 1 : 0;
    return `$(sync~spin) step ${step}/${run.steps || '?'}`;
  }
  const counts = countByKind(run.findings);
  const parts = counts.length ? counts.map(([k, n]) => `${n} ${k}`) : ['no findings'];
  if (run.status === 'cancelled') parts.push('cancelled');
  if (run.backend) parts.push(`backend ${run.backend.name}`);
  return parts.join(' · ');
}
