/**
 * Where a finding's squiggle goes: on the layer call that created the layer when the line has one, else on the
 * line's text without its indentation. Pure so it is unit-tested.
 */
import type { Finding, Severity } from '../protocol/run';

export interface LineRange {
  /** 0-based line and character offsets, end exclusive. */
  line: number;
  startCharacter: number;
  endCharacter: number;
}

export interface CallSpan {
  line: number;
  column: number;
  /** Offsets of the callee, used to know its length. */
  calleeStart: number;
  calleeEnd: number;
}

/**
 * @param lines the document's lines (index 0 = line 1)
 * @param calls layer calls found in the document (1-based line/column)
 */
export function findingRange(finding: Finding, lines: readonly string[], calls: readonly CallSpan[]): LineRange | undefined {
  if (!finding.source) return undefined;
  const line = Math.min(Math.max(finding.source.line, 1), Math.max(lines.length, 1)) - 1;
  const text = lines[line] ?? '';
  const onLine = calls.filter((c) => c.line - 1 === line);
  const call = onLine.find((c) => c.column === finding.source!.column) ?? onLine[0];
  if (call) {
    const start = call.column - 1;
    return { line, startCharacter: start, endCharacter: Math.min(text.length, start + (call.calleeEnd - call.calleeStart)) || start + 1 };
  }
  const indent = text.length - text.trimStart().length;
  return { line, startCharacter: indent, endCharacter: Math.max(indent + 1, text.trimEnd().length) };
}

/** Diagnostic severity number as VS Code defines it (Error 0, Warning 1, Information 2). */
export function severityRank(severity: Severity): 0 | 1 | 2 {
  return severity === 'error' ? 0 : severity === 'warning' ? 1 : 2;
}

/** The page that explains every finding kind, relative to the extension's root (shipped in the .vsix). */
export const FINDINGS_DOC = 'docs/findings.md';

/** Anchor of a finding kind's section in FINDINGS_DOC: the target of the diagnostic's code link. */
export function findingDocAnchor(kind: string): string {
  return `finding-${kind}`;
}
