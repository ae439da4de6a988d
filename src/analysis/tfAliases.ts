/**
 * Which local names refer to TensorFlow.js in a file: `import * as tf from '@tensorflow/tfjs'`,
 * `const tfl = require('@tensorflow/tfjs-node')`, `import { layers as L }`, `const { dense } = tf.layers`,
 * `const { sequential } = tf`, ... Collected from imports and variable declarations anywhere in the file.
 */
import ts from 'typescript';

export interface TfAliases {
  /** Names bound to the tfjs module (always includes `tf`, the conventional global). */
  namespaces: Set<string>;
  /** Names bound to `tf.layers`. */
  layers: Set<string>;
  /** Local name → factory, for destructured factories (`const { dense } = tf.layers`). */
  factories: Map<string, string>;
  /** Local name → 'sequential' | 'model', for destructured model builders. */
  modelBuilders: Map<string, 'sequential' | 'model'>;
}

/** '@tensorflow/tfjs', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-layers'. */
export function isTfModule(specifier: string): boolean {
  return /^@tensorflow\/tfjs(-node(-gpu)?|-layers|-core)?$/.test(specifier);
}

/** The module of a `require('…')` call with one string argument; null for any other expression. */
export function requireSpecifier(expr: ts.Expression | undefined): string | null {
  if (
    expr &&
    ts.isCallExpression(expr) &&
    ts.isIdentifier(expr.expression) &&
    expr.expression.text === 'require' &&
    expr.arguments.length === 1 &&
    ts.isStringLiteralLike(expr.arguments[0])
  )
    return expr.arguments[0].text;
  return null;
}

function requiredModule(expr: ts.Expression): string | null {
  const required = requireSpecifier(expr);
  if (required !== null) return required;
  // `await import('@tensorflow/tfjs')`
  if (
    ts.isAwaitExpression(expr) &&
    ts.isCallExpression(expr.expression) &&
    expr.expression.expression.kind === ts.SyntaxKind.ImportKeyword &&
    expr.expression.arguments.length === 1 &&
    ts.isStringLiteralLike(expr.expression.arguments[0])
  ) {
    return expr.expression.arguments[0].text;
  }
  return null;
}

export function emptyAliases(): TfAliases {
  return { namespaces: new Set(['tf']), layers: new Set(), factories: new Map(), modelBuilders: new Map() };
}

/** What an initializer expression refers to: the tfjs module, `tf.layers`, or neither. */
function referent(expr: ts.Expression, aliases: TfAliases): 'namespace' | 'layers' | null {
  while (ts.isParenthesizedExpression(expr) || ts.isAsExpression(expr) || ts.isNonNullExpression(expr)) expr = expr.expression;
  const mod = requiredModule(expr);
  if (mod !== null) return isTfModule(mod) ? 'namespace' : null;
  if (ts.isIdentifier(expr)) {
    if (aliases.namespaces.has(expr.text)) return 'namespace';
    if (aliases.layers.has(expr.text)) return 'layers';
    return null;
  }
  if (ts.isPropertyAccessExpression(expr) && expr.name.text === 'layers' && referent(expr.expression, aliases) === 'namespace') {
    return 'layers';
  }
  return null;
}

/** Binds one destructured name (`{ layers }`, `{ dense: D }`) taken from a namespace or `tf.layers`. */
function bindMember(from: 'namespace' | 'layers', member: string, local: string, aliases: TfAliases): void {
  if (from === 'namespace') {
    if (member === 'layers') aliases.layers.add(local);
    else if (member === 'sequential' || member === 'model') aliases.modelBuilders.set(local, member);
  } else if (/^[a-z]/.test(member)) {
    aliases.factories.set(local, member);
  }
}

/** Records what one import or variable declaration binds. */
export function collectAlias(node: ts.Node, aliases: TfAliases): void {
  if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier) && isTfModule(node.moduleSpecifier.text)) {
    const clause = node.importClause;
    if (!clause) return;
    if (clause.name) aliases.namespaces.add(clause.name.text);
    const bindings = clause.namedBindings;
    if (bindings && ts.isNamespaceImport(bindings)) aliases.namespaces.add(bindings.name.text);
    if (bindings && ts.isNamedImports(bindings)) {
      for (const el of bindings.elements) bindMember('namespace', (el.propertyName ?? el.name).text, el.name.text, aliases);
    }
    return;
  }
  if (
    ts.isImportEqualsDeclaration(node) &&
    ts.isExternalModuleReference(node.moduleReference) &&
    ts.isStringLiteral(node.moduleReference.expression) &&
    isTfModule(node.moduleReference.expression.text)
  ) {
    aliases.namespaces.add(node.name.text);
    return;
  }
  if (!ts.isVariableDeclaration(node) || !node.initializer) return;
  const from = referent(node.initializer, aliases);
  if (!from) return;
  if (ts.isIdentifier(node.name)) {
    (from === 'namespace' ? aliases.namespaces : aliases.layers).add(node.name.text);
  } else if (ts.isObjectBindingPattern(node.name)) {
    for (const el of node.name.elements) {
      if (!ts.isIdentifier(el.name)) continue;
      const member =
        el.propertyName && (ts.isIdentifier(el.propertyName) || ts.isStringLiteral(el.propertyName)) ? el.propertyName.text : el.name.text;
      bindMember(from, member, el.name.text, aliases);
    }
  }
}
