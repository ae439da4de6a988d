/**
 * Calls of a builder function whose arguments are known without running anything: literals, arrays and
 * objects of literals, and `const`s of the calling file initialised with such values. Searched in the
 * function's own file and in the given files that import it (ESM `import`, CommonJS `require`), so the
 * editor can offer `createModel([28, 28, 1], 10)` from `train.js` as the arguments to check with.
 * Pure: the caller passes the candidate files' text.
 */
import * as path from 'node:path';
import ts from 'typescript';
import { parseSource } from './builderFunctions';

export interface SourceText {
  file: string;
  text: string;
}

export interface CallSite {
  file: string;
  /** 1-based. */
  line: number;
  column: number;
  /** The evaluated arguments, JSON-serialisable. */
  args: unknown[];
  /** Source text of the call, e.g. `createModel(IMAGE_SHAPE, 10)`. */
  text: string;
}

export const NOT_STATIC = Symbol('not static');
type Value = unknown;

/** Top-level `const X = <static value>` of a file, evaluated in order so later ones may use earlier ones. */
function fileConstants(sf: ts.SourceFile): Map<string, Value> {
  const consts = new Map<string, Value>();
  for (const stmt of sf.statements) {
    if (!ts.isVariableStatement(stmt) || !(stmt.declarationList.flags & ts.NodeFlags.Const)) continue;
    for (const d of stmt.declarationList.declarations) {
      if (!ts.isIdentifier(d.name) || !d.initializer) continue;
      const v = evaluate(d.initializer, consts);
      if (v !== NOT_STATIC) consts.set(d.name.text, v);
    }
  }
  return consts;
}

/** The value of a static expression, or NOT_STATIC. */
export function evaluate(expr: ts.Expression, consts: ReadonlyMap<string, Value>): Value | typeof NOT_STATIC {
  while (ts.isParenthesizedExpression(expr) || ts.isAsExpression(expr) || ts.isNonNullExpression(expr)) expr = expr.expression;
  if (ts.isNumericLiteral(expr)) return Number(expr.text);
  if (ts.isStringLiteralLike(expr)) return expr.text;
  if (expr.kind === ts.SyntaxKind.TrueKeyword) return true;
  if (expr.kind === ts.SyntaxKind.FalseKeyword) return false;
  if (expr.kind === ts.SyntaxKind.NullKeyword) return null;
  if (ts.isPrefixUnaryExpression(expr) && (expr.operator === ts.SyntaxKind.MinusToken || expr.operator === ts.SyntaxKind.PlusToken)) {
    const v = evaluate(expr.operand, consts);
    return typeof v === 'number' ? (expr.operator === ts.SyntaxKind.MinusToken ? -v : v) : NOT_STATIC;
  }
  if (ts.isIdentifier(expr)) {
    if (expr.text === 'undefined') return undefined;
    return consts.has(expr.text) ? consts.get(expr.text) : NOT_STATIC;
  }
  if (ts.isArrayLiteralExpression(expr)) {
    const out: Value[] = [];
    for (const el of expr.elements) {
      const v = ts.isSpreadElement(el) ? evaluate(el.expression, consts) : evaluate(el, consts);
      if (v === NOT_STATIC) return NOT_STATIC;
      if (ts.isSpreadElement(el)) {
        if (!Array.isArray(v)) return NOT_STATIC;
        out.push(...v);
      } else out.push(v);
    }
    return out;
  }
  if (ts.isObjectLiteralExpression(expr)) {
    const out: Record<string, Value> = {};
    for (const p of expr.properties) {
      let key: string | null = null;
      let v: Value | typeof NOT_STATIC = NOT_STATIC;
      if (ts.isPropertyAssignment(p) && (ts.isIdentifier(p.name) || ts.isStringLiteral(p.name) || ts.isNumericLiteral(p.name))) {
        key = p.name.text;
        v = evaluate(p.initializer, consts);
      } else if (ts.isShorthandPropertyAssignment(p)) {
        key = p.name.text;
        v = evaluate(p.name, consts);
      }
      if (key === null || v === NOT_STATIC) return NOT_STATIC;
      out[key] = v;
    }
    return out;
  }
  if (ts.isPropertyAccessExpression(expr)) {
    const owner = evaluate(expr.expression, consts);
    if (owner && typeof owner === 'object' && !Array.isArray(owner) && Object.hasOwn(owner, expr.name.text))
      return (owner as Record<string, Value>)[expr.name.text];
    if (Array.isArray(owner) && expr.name.text === 'length') return owner.length;
    return NOT_STATIC;
  }
  if (
    ts.isBinaryExpression(expr) &&
    [ts.SyntaxKind.AsteriskToken, ts.SyntaxKind.PlusToken, ts.SyntaxKind.MinusToken, ts.SyntaxKind.SlashToken].includes(
      expr.operatorToken.kind,
    )
  ) {
    const a = evaluate(expr.left, consts);
    const b = evaluate(expr.right, consts);
    if (typeof a !== 'number' || typeof b !== 'number') return NOT_STATIC;
    switch (expr.operatorToken.kind) {
      case ts.SyntaxKind.AsteriskToken:
        return a * b;
      case ts.SyntaxKind.PlusToken:
        return a + b;
      case ts.SyntaxKind.MinusToken:
        return a - b;
      default:
        return a / b;
    }
  }
  return NOT_STATIC;
}

/** True when `specifier`, imported from `fromFile`, names `target` (extension and /index optional). */
export function resolvesTo(specifier: string, fromFile: string, target: string): boolean {
  if (!specifier.startsWith('.')) return false;
  const base = path.resolve(path.dirname(fromFile), specifier);
  const strip = (p: string) => p.replace(/\.(?:[cm]?[jt]s|[jt]sx)$/i, '');
  const t = strip(path.resolve(target));
  return strip(base) === t || path.join(base, 'index') === t;
}

/** Local names under which `file` sees `name` of `target`: bare names (`createModel`) and `ns.createModel` forms. */
function importedNames(sf: ts.SourceFile, file: string, target: string, name: string): Set<string> {
  const names = new Set<string>();
  const requireOf = (e: ts.Expression | undefined) =>
    e &&
    ts.isCallExpression(e) &&
    ts.isIdentifier(e.expression) &&
    e.expression.text === 'require' &&
    e.arguments.length === 1 &&
    ts.isStringLiteralLike(e.arguments[0])
      ? e.arguments[0].text
      : null;
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier) && resolvesTo(node.moduleSpecifier.text, file, target)) {
      const clause = node.importClause;
      if (clause?.name && name === 'default') names.add(clause.name.text);
      const b = clause?.namedBindings;
      if (b && ts.isNamespaceImport(b)) names.add(`${b.name.text}.${name}`);
      if (b && ts.isNamedImports(b)) for (const el of b.elements) if ((el.propertyName ?? el.name).text === name) names.add(el.name.text);
    } else if (ts.isVariableDeclaration(node)) {
      const spec = requireOf(node.initializer);
      if (spec !== null && resolvesTo(spec, file, target)) {
        if (ts.isIdentifier(node.name)) names.add(name === 'default' ? node.name.text : `${node.name.text}.${name}`);
        else if (ts.isObjectBindingPattern(node.name)) {
          for (const el of node.name.elements) {
            const imported =
              el.propertyName && ts.isIdentifier(el.propertyName) ? el.propertyName.text : ts.isIdentifier(el.name) ? el.name.text : null;
            if (imported === name && ts.isIdentifier(el.name)) names.add(el.name.text);
          }
        }
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return names;
}

function calleeText(e: ts.Expression): string | null {
  if (ts.isIdentifier(e)) return e.text;
  if (ts.isPropertyAccessExpression(e) && ts.isIdentifier(e.expression)) return `${e.expression.text}.${e.name.text}`;
  return null;
}

/** Statically evaluable calls of `name` (a builder of `target`) in `files` (which may include `target` itself). */
export function findCallSites(files: readonly SourceText[], target: string, name: string): CallSite[] {
  const sites: CallSite[] = [];
  for (const { file, text } of files) {
    const self = path.resolve(file) === path.resolve(target);
    if (!self && !/\b(?:import|require)\b/.test(text)) continue;
    const sf = parseSource(text, file);
    const local = self ? new Set([name]) : importedNames(sf, file, target, name);
    if (local.size === 0) continue;
    const consts = fileConstants(sf);
    const visit = (node: ts.Node): void => {
      if (ts.isCallExpression(node)) {
        const callee = calleeText(node.expression);
        if (callee !== null && local.has(callee)) {
          const args = node.arguments.map((a) => evaluate(a, consts));
          if (!args.includes(NOT_STATIC)) {
            const { line, character } = sf.getLineAndCharacterOfPosition(node.getStart(sf));
            sites.push({ file, line: line + 1, column: character + 1, args, text: node.getText(sf).replace(/\s+/g, ' ') });
          }
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return sites;
}
