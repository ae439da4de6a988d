/**
 * The training steps a model file's own `normscope` spec asks for (`normscope: { steps: 20 }`), read from the
 * source so the editor can show the steps a run will really use (the spec wins over the setting, as in the worker).
 */
import ts from 'typescript';

export interface SpecSteps {
  value: number;
  /** 1-based line of the `steps` property. */
  line: number;
}

/** `const NAME = <literal>` bindings of the file, numbers and object literals, for one level of indirection. */
function constBindings(sf: ts.SourceFile): Map<string, ts.Expression> {
  const out = new Map<string, ts.Expression>();
  const visit = (node: ts.Node): void => {
    if (
      ts.isVariableDeclaration(node) &&
      ts.isIdentifier(node.name) &&
      node.initializer &&
      ts.isVariableDeclarationList(node.parent) &&
      node.parent.flags & ts.NodeFlags.Const
    ) {
      out.set(node.name.text, node.initializer);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

function unwrap(expr: ts.Expression, consts: Map<string, ts.Expression>): ts.Expression {
  for (let hops = 0; hops < 3; hops++) {
    if (ts.isParenthesizedExpression(expr) || ts.isAsExpression(expr) || ts.isSatisfiesExpression(expr)) expr = expr.expression;
    else if (ts.isIdentifier(expr) && consts.has(expr.text)) expr = consts.get(expr.text)!;
    else break;
  }
  return expr;
}

function stepsOf(spec: ts.Expression, consts: Map<string, ts.Expression>, sf: ts.SourceFile): SpecSteps | null {
  const obj = unwrap(spec, consts);
  if (!ts.isObjectLiteralExpression(obj)) return null;
  for (const prop of obj.properties) {
    const named =
      (ts.isPropertyAssignment(prop) || ts.isShorthandPropertyAssignment(prop)) &&
      (ts.isIdentifier(prop.name) || ts.isStringLiteral(prop.name)) &&
      prop.name.text === 'steps';
    if (!named) continue;
    const value = unwrap(ts.isPropertyAssignment(prop) ? prop.initializer : prop.name, consts);
    if (!ts.isNumericLiteral(value)) return null;
    const n = Number(value.text);
    if (!(Number.isInteger(n) && n > 0)) return null;
    return { value: n, line: sf.getLineAndCharacterOfPosition(prop.getStart(sf)).line + 1 };
  }
  return null;
}

/**
 * `steps` of the exported `normscope` spec, in any of the export forms the loader accepts:
 * `module.exports = { normscope: {...} }`, `exports.normscope = {...}`, `export const normscope = {...}`,
 * with the object inline or bound to a const. Null when absent or not a positive integer literal.
 */
export function findSpecSteps(sf: ts.SourceFile): SpecSteps | null {
  const consts = constBindings(sf);
  let found: SpecSteps | null = null;
  const visit = (node: ts.Node): void => {
    if (found) return;
    let spec: ts.Expression | undefined;
    if (ts.isPropertyAssignment(node) && (ts.isIdentifier(node.name) || ts.isStringLiteral(node.name)) && node.name.text === 'normscope')
      spec = node.initializer;
    else if (ts.isShorthandPropertyAssignment(node) && node.name.text === 'normscope') spec = node.name;
    else if (
      ts.isBinaryExpression(node) &&
      node.operatorToken.kind === ts.SyntaxKind.EqualsToken &&
      ts.isPropertyAccessExpression(node.left) &&
      node.left.name.text === 'normscope'
    )
      spec = node.right;
    else if (ts.isVariableStatement(node) && node.modifiers?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword)) {
      const decl = node.declarationList.declarations.find((d) => ts.isIdentifier(d.name) && d.name.text === 'normscope');
      spec = decl?.initializer;
    }
    if (spec) found = stepsOf(spec, consts, sf);
    if (!found) ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}
