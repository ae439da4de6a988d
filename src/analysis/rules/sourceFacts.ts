/**
 * Facts the static rules read from the source besides layer calls: the batch size it trains with,
 * and how many times a layer call runs inside literal loops (`for (let i = 0; i < 12; i++)`).
 */
import ts from 'typescript';

export interface BatchSizeSource {
  value: number;
  /** 1-based line where it is set; null when it came from the options. */
  line: number | null;
}

/** The numeric value of a literal, or of an identifier bound by `const NAME = <number>` in the file. */
function numberOf(expr: ts.Expression, constants: Map<string, number>): number | undefined {
  if (ts.isNumericLiteral(expr)) return Number(expr.text);
  if (ts.isIdentifier(expr)) return constants.get(expr.text);
  if (ts.isParenthesizedExpression(expr)) return numberOf(expr.expression, constants);
  return undefined;
}

/**
 * The smallest batch size the file trains with: `batchSize: N` in any object literal (fit options,
 * the `normscope` export, a config object) or `dataset.batch(N)`. N may be a literal or a const.
 */
export function findBatchSize(sf: ts.SourceFile): BatchSizeSource | null {
  const constants = new Map<string, number>();
  const candidates: { expr: ts.Expression; node: ts.Node }[] = [];
  const visit = (node: ts.Node): void => {
    if (
      ts.isVariableDeclaration(node) &&
      ts.isIdentifier(node.name) &&
      node.initializer &&
      ts.isNumericLiteral(node.initializer) &&
      ts.isVariableDeclarationList(node.parent) &&
      node.parent.flags & ts.NodeFlags.Const
    ) {
      constants.set(node.name.text, Number(node.initializer.text));
    } else if (
      ts.isPropertyAssignment(node) &&
      (ts.isIdentifier(node.name) || ts.isStringLiteral(node.name)) &&
      node.name.text === 'batchSize'
    ) {
      candidates.push({ expr: node.initializer, node });
    } else if (ts.isShorthandPropertyAssignment(node) && node.name.text === 'batchSize') {
      candidates.push({ expr: node.name, node });
    } else if (
      ts.isCallExpression(node) &&
      ts.isPropertyAccessExpression(node.expression) &&
      node.expression.name.text === 'batch' &&
      node.arguments.length >= 1
    ) {
      candidates.push({ expr: node.arguments[0], node });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  let best: BatchSizeSource | null = null;
  for (const c of candidates) {
    const value = numberOf(c.expr, constants);
    if (value === undefined || !(value > 0)) continue;
    if (!best || value < best.value) best = { value, line: sf.getLineAndCharacterOfPosition(c.node.getStart(sf)).line + 1 };
  }
  return best;
}

/** Trip count of `for (let i = A; i < B; i++)` / `i <= B` with literal or const bounds, else undefined. */
function forTripCount(loop: ts.ForStatement): number | undefined {
  const init = loop.initializer;
  const cond = loop.condition;
  if (!init || !cond || !ts.isVariableDeclarationList(init) || init.declarations.length !== 1) return undefined;
  const decl = init.declarations[0];
  if (!decl.initializer || !ts.isNumericLiteral(decl.initializer) || !ts.isBinaryExpression(cond)) return undefined;
  const from = Number(decl.initializer.text);
  const to = ts.isNumericLiteral(cond.right) ? Number(cond.right.text) : undefined;
  if (to === undefined) return undefined;
  if (cond.operatorToken.kind === ts.SyntaxKind.LessThanToken) return Math.max(0, to - from);
  if (cond.operatorToken.kind === ts.SyntaxKind.LessThanEqualsToken) return Math.max(0, to - from + 1);
  return undefined;
}

/** How many times the code at `pos` runs: product of the trip counts of enclosing literal loops in its function. */
export function loopRepeat(sf: ts.SourceFile, pos: number): number {
  let count = 1;
  let node: ts.Node = sf;
  const path: ts.Node[] = [];
  // Descend to the deepest node containing pos (parents may not be set on every source file).
  for (;;) {
    const child: ts.Node | undefined = ts.forEachChild(node, (c) => (c.pos <= pos && pos < c.end ? c : undefined));
    if (!child) break;
    path.push(child);
    node = child;
  }
  for (const n of path) {
    if (ts.isFunctionLike(n))
      count = 1; // a loop outside the function does not run the function's body
    else if (ts.isForStatement(n) && n.statement.pos <= pos) count *= forTripCount(n) ?? 1;
    else if (ts.isForOfStatement(n) && n.statement.pos <= pos && ts.isArrayLiteralExpression(n.expression))
      count *= n.expression.elements.length;
  }
  return count;
}
