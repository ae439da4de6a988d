/**
 * Static lint: the source-only rules of ./rules over one file. No code runs, so this works in
 * untrusted workspaces; `normscope lint` and the editor's diagnostics call it.
 */
import type { Finding } from '../protocol/run';
import { parseModelSource, type ParsedModelSource } from './layerCalls';
import { RuleContext, STATIC_RULES, type LintOptions } from './rules';

export type { LintOptions } from './rules';

const SEVERITY_ORDER = { error: 0, warning: 1, info: 2 } as const;

/** Findings of every static rule, by line then severity. Pass `parsed` to reuse an editor's parse. */
export function lintSource(text: string, fileName: string, options: LintOptions & { parsed?: ParsedModelSource } = {}): Finding[] {
  const parsed = options.parsed ?? parseModelSource(text, fileName);
  const ctx = new RuleContext(parsed, fileName, options);
  const findings = STATIC_RULES.flatMap((rule) => rule.check(ctx));
  return findings.sort((a, b) => (a.source?.line ?? 0) - (b.source?.line ?? 0) || SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity]);
}
