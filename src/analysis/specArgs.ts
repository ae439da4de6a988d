/**
 * Whether the file's own `normscope` spec gives a builder function its arguments (`normscope: { args: [...] }`
 * or `normscope: { createModel: { args: [...] } }`), so the editor need not ask for them: the worker uses them.
 */
import ts from 'typescript';

function propertyNamed(obj: ts.ObjectLiteralExpression, name: string): ts.Expression | undefined {
  for (const p of obj.properties) {
    const key = p.name && (ts.isIdentifier(p.name) || ts.isStringLiteral(p.name)) ? p.name.text : undefined;
    if (key !== name) continue;
    if (ts.isPropertyAssignment(p)) return p.initializer;
    if (ts.isShorthandPropertyAssignment(p)) return p.name;
  }
  return undefined;
}

/** The object literals a file binds to `normscope` (a variable, or a property of an exported object). */
function specObjects(sf: ts.SourceFile): ts.ObjectLiteralExpression[] {
  const found: ts.ObjectLiteralExpression[] = [];
  const visit = (node: ts.Node): void => {
    if (
      ts.isVariableDeclaration(node) &&
      ts.isIdentifier(node.name) &&
      node.name.text === 'normscope' &&
      node.initializer &&
      ts.isObjectLiteralExpression(node.initializer)
    ) {
      found.push(node.initializer);
    } else if (
      ts.isPropertyAssignment(node) &&
      ts.isIdentifier(node.name) &&
      node.name.text === 'normscope' &&
      ts.isObjectLiteralExpression(node.initializer)
    ) {
      found.push(node.initializer);
    } else if (
      ts.isBinaryExpression(node) &&
      /^(?:module\.)?exports\.normscope$/.test(node.left.getText(sf)) &&
      ts.isObjectLiteralExpression(node.right)
    ) {
      found.push(node.right);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

export function specGivesArgs(sf: ts.SourceFile, functionName: string): boolean {
  return specObjects(sf).some((spec) => {
    const own = propertyNamed(spec, functionName);
    return (
      propertyNamed(spec, 'args') !== undefined ||
      (own !== undefined && ts.isObjectLiteralExpression(own) && propertyNamed(own, 'args') !== undefined)
    );
  });
}
