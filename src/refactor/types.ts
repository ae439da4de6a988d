/**
 * Shapes shared by every refactor: text edits over the original source, the result the editor turns
 * into one WorkspaceEdit (and the CLI into a file), and the error a refactor raises when it cannot apply.
 */
import ts from 'typescript';
import type { Finding } from '../protocol/run';

export { NORM_KINDS, type NormKind } from '../protocol/vocabulary';

/** Replace `[start, end)` of the original text (0-based UTF-16 offsets) with `newText`. */
export interface TextEdit {
  start: number;
  end: number;
  newText: string;
}

/** A file to create next to the model, e.g. the generated norm-layers module. */
export interface ExtraFile {
  /** Path relative to the model file's directory ('norm-layers.ts'). */
  path: string;
  content: string;
  /** An existing file is the user's (they may have edited it): create this one only when absent. */
  ifExists: 'keep';
}

export interface RefactorResult {
  /** Sorted by `start`, non-overlapping, against the original text. */
  edits: TextEdit[];
  /** The original text with `edits` applied. */
  newText: string;
  extraFiles: ExtraFile[];
  /** What was done, in one sentence, for an undo label or the CLI. */
  description: string;
}

/** Every refactor NormScope offers; a superset of `Finding['refactor']` so a finding's fix can be passed as is. */
export type RefactorAction = NonNullable<Finding['refactor']> | { action: 'remove-norm' } | { action: 'weight-norm' };

/** Where in the file: a 0-based offset, or a 1-based line (and optional 1-based column). */
export type RefactorTarget = { offset: number } | { line: number; column?: number };

/** A refactor that does not apply at the target; `message` says why, naming the file and line. */
export class RefactorError extends Error {
  constructor(
    message: string,
    readonly fileName: string,
    readonly line: number,
  ) {
    super(`${fileName}:${line}: ${message}`);
    this.name = 'RefactorError';
  }
}

export function applyEdits(text: string, edits: readonly TextEdit[]): string {
  const sorted = [...edits].sort((a, b) => a.start - b.start || a.end - b.end);
  let out = '';
  let pos = 0;
  for (const e of sorted) {
    if (e.start < pos) throw new Error(`overlapping edits at offset ${e.start}`);
    out += text.slice(pos, e.start) + e.newText;
    pos = e.end;
  }
  return out + text.slice(pos);
}

export function scriptKindOf(fileName: string): ts.ScriptKind {
  if (/\.tsx$/i.test(fileName)) return ts.ScriptKind.TSX;
  if (/\.[cm]?ts$/i.test(fileName)) return ts.ScriptKind.TS;
  if (/\.jsx$/i.test(fileName)) return ts.ScriptKind.JSX;
  return ts.ScriptKind.JS;
}

/** Syntax errors of `text` as "line:col message" strings. */
export function syntaxErrors(text: string, fileName: string): string[] {
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, false, scriptKindOf(fileName));
  const diagnostics = (sf as unknown as { parseDiagnostics: ts.Diagnostic[] }).parseDiagnostics ?? [];
  return diagnostics.map((d) => {
    const { line, character } = sf.getLineAndCharacterOfPosition(d.start ?? 0);
    return `${line + 1}:${character + 1} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
  });
}

/** Builds the result, refusing one that would leave the file with syntax errors it did not have. */
export function finish(text: string, fileName: string, edits: TextEdit[], extraFiles: ExtraFile[], description: string): RefactorResult {
  const sorted = [...edits].sort((a, b) => a.start - b.start || a.end - b.end);
  const newText = applyEdits(text, sorted);
  const before = syntaxErrors(text, fileName).length;
  const after = syntaxErrors(newText, fileName);
  if (after.length > before) {
    throw new Error(`NormScope refactor produced invalid ${fileName} (${after[0]}); please report this with the file.`);
  }
  return { edits: sorted, newText, extraFiles, description };
}
