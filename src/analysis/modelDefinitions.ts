/**
 * Model definitions in a file, for CodeLens and for grouping layers: `tf.sequential(...)`,
 * `tf.model(...)`, and factory functions the worker can call (createModel/buildModel, default exports).
 */
import ts from 'typescript';
import type { TfAliases } from './tfAliases';

export interface ModelDefinition {
  kind: 'sequential' | 'model' | 'factory';
  /** Variable or function name (`model`, `createModel`); absent for anonymous definitions. */
  name?: string;
  /** 1-based position of the definition's first character. */
  line: number;
  column: number;
  start: number;
  end: number;
  /** Index of the factory model this definition sits inside, or null. */
  container: number | null;
  /** The call expression or function node (for analyses; not serialisable). */
  node: ts.Node;
}

/** Function names the worker treats as model factories. */
export const FACTORY_NAMES: ReadonlySet<string> = new Set(['createModel', 'buildModel']);

/** 'sequential' / 'model' when the callee is `tf.sequential`, `tf.model` or a destructured alias. */
export function modelBuilderKind(callee: ts.Expression, aliases: TfAliases): 'sequential' | 'model' | null {
  if (ts.isIdentifier(callee)) return aliases.modelBuilders.get(callee.text) ?? null;
  if (ts.isPropertyAccessExpression(callee) && ts.isIdentifier(callee.expression) && aliases.namespaces.has(callee.expression.text)) {
    const name = callee.name.text;
    if (name === 'sequential' || name === 'model') return name;
  }
  return null;
}

export function isFunctionValue(node: ts.Node | undefined): node is ts.FunctionExpression | ts.ArrowFunction {
  return !!node && (ts.isFunctionExpression(node) || ts.isArrowFunction(node));
}

export function hasModifier(node: ts.Node, kind: ts.SyntaxKind): boolean {
  return ts.canHaveModifiers(node) && (ts.getModifiers(node)?.some((m) => m.kind === kind) ?? false);
}

/** `module.exports`, `exports.createModel`, `module.exports.buildModel` → the exported name ('default' for module.exports). */
function commonJsExportName(left: ts.Expression): string | null {
  const text = left.getText();
  if (text === 'module.exports' || text === 'exports.default' || text === 'module.exports.default') return 'default';
  const m = /^(?:module\.)?exports\.([A-Za-z_$][\w$]*)$/.exec(text);
  return m ? m[1] : null;
}

/** Factory functions: a name in FACTORY_NAMES, or the default export. */
function factoryFunctions(sf: ts.SourceFile): { node: ts.Node; name?: string }[] {
  const out: { node: ts.Node; name?: string }[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionDeclaration(node) && node.body) {
      const isDefault = hasModifier(node, ts.SyntaxKind.ExportKeyword) && hasModifier(node, ts.SyntaxKind.DefaultKeyword);
      const name = node.name?.text;
      if (isDefault || (name && FACTORY_NAMES.has(name))) out.push({ node, name: name ?? 'default' });
    } else if (
      ts.isVariableDeclaration(node) &&
      ts.isIdentifier(node.name) &&
      FACTORY_NAMES.has(node.name.text) &&
      isFunctionValue(node.initializer)
    ) {
      out.push({ node: node.initializer, name: node.name.text });
    } else if (ts.isExportAssignment(node) && isFunctionValue(node.expression)) {
      out.push({ node: node.expression, name: 'default' });
    } else if (ts.isBinaryExpression(node) && node.operatorToken.kind === ts.SyntaxKind.EqualsToken && isFunctionValue(node.right)) {
      const name = commonJsExportName(node.left);
      if (name !== null && (name === 'default' || FACTORY_NAMES.has(name))) out.push({ node: node.right, name });
    }
    // Factories are top-level (or exported) functions: no need to look inside function bodies.
    if (!ts.isFunctionLike(node) || ts.isSourceFile(node)) ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

function nameOfModelCall(call: ts.CallExpression): string | undefined {
  const p = call.parent;
  if (ts.isVariableDeclaration(p) && ts.isIdentifier(p.name)) return p.name.text;
  if (ts.isBinaryExpression(p) && p.right === call && p.operatorToken.kind === ts.SyntaxKind.EqualsToken) {
    return ts.isIdentifier(p.left) ? p.left.text : undefined;
  }
  return undefined;
}

/** All model definitions of a parsed file, in source order. `calls` is every call expression in it. */
export function findModelDefinitions(sf: ts.SourceFile, calls: readonly ts.CallExpression[], aliases: TfAliases): ModelDefinition[] {
  const found: { kind: ModelDefinition['kind']; name?: string; node: ts.Node }[] = [];
  for (const f of factoryFunctions(sf)) found.push({ kind: 'factory', name: f.name, node: f.node });
  for (const c of calls) {
    const kind = modelBuilderKind(c.expression, aliases);
    if (kind) found.push({ kind, name: nameOfModelCall(c), node: c });
  }
  found.sort((a, b) => a.node.pos - b.node.pos);
  const defs: ModelDefinition[] = found.map((f) => {
    // A factory declared as `const createModel = () => ...` is reported at the declaration.
    const anchor = ts.isVariableDeclaration(f.node.parent) ? f.node.parent.parent.parent : f.node;
    const start = anchor.getStart(sf);
    const { line, character } = sf.getLineAndCharacterOfPosition(start);
    return {
      kind: f.kind,
      ...(f.name ? { name: f.name } : {}),
      line: line + 1,
      column: character + 1,
      start,
      end: f.node.end,
      container: null,
      node: f.node,
    };
  });
  for (const d of defs) {
    if (d.kind === 'factory') continue;
    const idx = defs.findIndex((f) => f.kind === 'factory' && f.node.pos <= d.node.pos && d.node.end <= f.node.end);
    d.container = idx >= 0 ? idx : null;
  }
  return defs;
}
