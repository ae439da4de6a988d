/**
 * Arguments typed by a person: `--args '[[28, 28, 1], 10]'` on the command line, or `[28, 28, 1], 10` in the
 * editor's input box (written as between the parentheses of a call). Read as JavaScript literals, so single
 * quotes, unquoted keys and trailing commas are fine; anything that would need running code is refused.
 */
import ts from 'typescript';
import { evaluate, NOT_STATIC } from './callSites';

export type ParsedArguments = { ok: true; args: unknown[] } | { ok: false; error: string };

const LITERALS_ONLY = 'use numbers, strings, true/false/null, and arrays or objects of those';

function parseExpression(text: string): { expr: ts.Expression | null; error?: string } {
  const sf = ts.createSourceFile('args.ts', `(${text}\n);`, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const diagnostics = (sf as unknown as { parseDiagnostics?: ts.Diagnostic[] }).parseDiagnostics ?? [];
  if (diagnostics.length) return { expr: null, error: ts.flattenDiagnosticMessageText(diagnostics[0].messageText, ' ') };
  const stmt = sf.statements[0];
  if (sf.statements.length !== 1 || !stmt || !ts.isExpressionStatement(stmt) || !ts.isParenthesizedExpression(stmt.expression))
    return { expr: null, error: 'not a single value' };
  return { expr: stmt.expression.expression };
}

function evaluateAll(exprs: readonly ts.Expression[]): ParsedArguments {
  const args: unknown[] = [];
  for (const [i, e] of exprs.entries()) {
    const v = evaluate(e, new Map());
    if (v === NOT_STATIC) return { ok: false, error: `argument ${i + 1} (${e.getText()}) is not a literal value: ${LITERALS_ONLY}` };
    args.push(v);
  }
  return { ok: true, args };
}

/** A JSON(-like) array of arguments: `[[28, 28, 1], 10]`. */
export function parseArgumentArray(text: string): ParsedArguments {
  if (!text.trim()) return { ok: false, error: 'expected an array of arguments, e.g. [[28, 28, 1], 10]' };
  const { expr, error } = parseExpression(text);
  if (!expr) return { ok: false, error: `cannot read ${JSON.stringify(text)}: ${error}` };
  if (!ts.isArrayLiteralExpression(expr))
    return { ok: false, error: `expected an array of arguments, e.g. [[28, 28, 1], 10], got ${JSON.stringify(text)}` };
  return evaluateAll(expr.elements);
}

/** Arguments as written inside a call's parentheses: `[28, 28, 1], 10` (empty text: no arguments). */
export function parseArgumentList(text: string): ParsedArguments {
  if (!text.trim()) return { ok: true, args: [] };
  const parsed = parseArgumentArray(`[${text}]`);
  return parsed.ok
    ? parsed
    : { ok: false, error: parsed.error.replace(/^expected an array.*$/, 'expected arguments as in a call, e.g. [28, 28, 1], 10') };
}

/** One value as literal text: `[28, 28, 1]`, `{ units: 4, name: "a,b" }`. */
export function formatValue(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(formatValue).join(', ')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value).map(([k, v]) => `${/^[A-Za-z_$][\w$]*$/.test(k) ? k : JSON.stringify(k)}: ${formatValue(v)}`);
    return entries.length ? `{ ${entries.join(', ')} }` : '{}';
  }
  return value === undefined ? 'undefined' : JSON.stringify(value);
}

/** Arguments back as call text: `[28, 28, 1], 10` (what the input box shows for remembered ones). */
export function formatArgumentList(args: readonly unknown[]): string {
  return args.map(formatValue).join(', ');
}
