/** Finding the layer call a refactor acts on, from a line (CLI, findings) or an offset (editor cursor). */
import type { LayerCall, ParsedModelSource } from '../analysis/layerCalls';
import { RefactorError, type RefactorTarget } from './types';

/** 1-based line of an offset. */
export function lineOf(parsed: ParsedModelSource, offset: number): number {
  return parsed.sourceFile.getLineAndCharacterOfPosition(offset).line + 1;
}

export function targetLine(parsed: ParsedModelSource, target: RefactorTarget): number {
  return 'offset' in target ? lineOf(parsed, target.offset) : target.line;
}

/**
 * The call a refactor applies to: with an offset, the innermost matching call around it (or around
 * its `.apply(...)`), else one created on its line; with a line, the matching call created there,
 * else one applied there (nearest `column` if given).
 */
export function pickCall(parsed: ParsedModelSource, target: RefactorTarget, matches: (c: LayerCall) => boolean, what: string): LayerCall {
  const line = targetLine(parsed, target);
  const lineCount = parsed.sourceFile.getLineStarts().length;
  if (!Number.isInteger(line) || line < 1 || line > lineCount) {
    throw new RefactorError(`line ${line} is outside the file (it has ${lineCount} lines)`, parsed.fileName, line);
  }
  const candidates = parsed.calls.filter(matches);
  if ('offset' in target) {
    const around = candidates.filter((c) => c.start <= target.offset && target.offset <= c.end);
    if (around.length === 0) {
      const applied = candidates.filter((c) => c.apply !== null && c.apply.start <= target.offset && target.offset <= c.apply.end);
      if (applied.length > 0) return applied.reduce((a, b) => (b.apply!.end - b.apply!.start < a.apply!.end - a.apply!.start ? b : a));
    }
    if (around.length > 0) return around.reduce((a, b) => (b.end - b.start < a.end - a.start ? b : a));
  }
  // With a line, a layer bound to a variable is also found from the line of its `.apply(...)`.
  const onLine = [
    ...candidates.filter((c) => c.line === line),
    ...('offset' in target ? [] : candidates.filter((c) => c.line !== line && c.apply !== null && lineOf(parsed, c.apply.start) === line)),
  ];
  if (onLine.length === 0) {
    const others = parsed.calls.filter((c) => c.line === line).map((c) => c.className);
    const found = others.length ? `only ${others.join(', ')}` : 'no layer call';
    throw new RefactorError(`no ${what} here (${found} on line ${line})`, parsed.fileName, line);
  }
  if ('column' in target && target.column !== undefined) {
    const column = target.column;
    return onLine.reduce((a, b) => (Math.abs(b.column - column) < Math.abs(a.column - column) ? b : a));
  }
  return onLine[0];
}
