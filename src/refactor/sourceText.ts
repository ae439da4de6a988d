/**
 * Small helpers over source text and the parsed tree: line positions, indentation, finding the node
 * of a `LayerCall`, and deleting elements of a comma-separated list without leaving holes.
 */
import ts from 'typescript';
import type { TextEdit } from './types';

export function lineStart(text: string, pos: number): number {
  return text.lastIndexOf('\n', pos - 1) + 1;
}

/** Leading whitespace of the line containing `pos`. */
export function indentAt(text: string, pos: number): string {
  const start = lineStart(text, pos);
  return /^[ \t]*/.exec(text.slice(start))![0];
}

export function eolOf(text: string): string {
  return text.includes('\r\n') ? '\r\n' : '\n';
}

/** Only whitespace between the start of its line and `pos`. */
export function startsLine(text: string, pos: number): boolean {
  return /^[ \t]*$/.test(text.slice(lineStart(text, pos), pos));
}

/** The smallest node of one of `kinds` spanning exactly [start, end), or undefined. */
export function nodeAt(sf: ts.SourceFile, start: number, end: number, kinds: readonly ts.SyntaxKind[]): ts.Node | undefined {
  let found: ts.Node | undefined;
  const visit = (node: ts.Node): void => {
    if (node.end < end || node.pos > start) return;
    if (node.getStart(sf) === start && node.end === end && kinds.includes(node.kind)) found = node;
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

/** The statement (or class member / case clause child) that contains `node`. */
export function enclosingStatement(node: ts.Node): ts.Statement | undefined {
  for (let n: ts.Node | undefined = node; n; n = n.parent) {
    if (
      ts.isStatement(n) &&
      n.parent &&
      (ts.isBlock(n.parent) || ts.isSourceFile(n.parent) || ts.isCaseClause(n.parent) || ts.isModuleBlock(n.parent))
    )
      return n;
  }
  return undefined;
}

/**
 * Edits deleting `remove` (indices into `elements`) from a comma-separated list. A run of removed
 * elements that fills whole lines is deleted with its lines; otherwise with the comma between it
 * and its neighbour, so `{ a, b, c }` minus b is `{ a, c }` and a multi-line list keeps its layout.
 */
export function deleteListElements(text: string, sf: ts.SourceFile, elements: readonly ts.Node[], remove: ReadonlySet<number>): TextEdit[] {
  const edits: TextEdit[] = [];
  let i = 0;
  while (i < elements.length) {
    if (!remove.has(i)) {
      i++;
      continue;
    }
    let j = i;
    while (j + 1 < elements.length && remove.has(j + 1)) j++;
    const first = elements[i].getStart(sf);
    const last = elements[j].end;
    // What follows the run on its line: an optional comma and an optional line comment.
    const rest = /^[ \t]*,?[ \t]*(\/\/[^\n]*)?(\r?\n|$)/.exec(text.slice(last));
    if (startsLine(text, first) && rest) {
      edits.push({ start: lineStart(text, first), end: last + rest[0].length, newText: '' });
    } else if (j + 1 < elements.length) {
      edits.push({ start: first, end: elements[j + 1].getStart(sf), newText: '' });
    } else if (i > 0) {
      edits.push({ start: elements[i - 1].end, end: last, newText: '' });
    } else {
      const comma = /^[ \t]*,/.exec(text.slice(last));
      edits.push({ start: first, end: last + (comma ? comma[0].length : 0), newText: '' });
    }
    i = j + 1;
  }
  return edits;
}
