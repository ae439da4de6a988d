/**
 * Functions that build a tf.LayersModel, whatever their name: their body calls `tf.sequential`, `tf.model`
 * (or a destructured alias) or another such function of the same file, transitively. Each comes with its
 * parameter list so the editor and the CLI can ask for arguments, and the worker can say which are missing.
 * Only functions the worker can reach are listed: top-level declarations, `const f = () => ...`, default
 * exports, CommonJS `exports.f = ...`, and methods of a top-level object literal (`const models = { encoder() {} }`).
 */
import ts from 'typescript';
import { scriptKindOf } from './layerCalls';
import { hasModifier, isFunctionValue, modelBuilderKind } from './modelDefinitions';
import { collectAlias, emptyAliases, type TfAliases } from './tfAliases';

export interface BuilderParam {
  /** Identifier, or the source text of a destructuring pattern (`{ units, depth }`). */
  name: string;
  /** Source text of the default value, when there is one. */
  defaultText?: string;
  rest: boolean;
  /** TypeScript `x?: T`. */
  optional: boolean;
}

export interface BuilderFunction {
  /** What `--model` takes: `createModel`, `default`, or `models.encoder` for an object-literal method. */
  name: string;
  params: BuilderParam[];
  /** Parameters that must be given: those before the first default, optional or rest parameter. */
  required: number;
  exported: boolean;
  /** `export default function name()`: the worker finds it as the module's default export. */
  defaultExport: boolean;
  /** 1-based position of the declaration's first character (the line its CodeLens sits on). */
  line: number;
  column: number;
  start: number;
  end: number;
}

type FunctionNode = ts.FunctionDeclaration | ts.FunctionExpression | ts.ArrowFunction | ts.MethodDeclaration;

interface Candidate {
  name: string;
  fn: FunctionNode;
  anchor: ts.Node;
  exported: boolean;
  defaultExport?: boolean;
}

/** `module.exports.f`, `exports.f` → 'f'; `module.exports` → ''; else null. */
function commonJsTarget(left: ts.Expression, sf: ts.SourceFile): string | null {
  const text = left.getText(sf);
  if (text === 'module.exports') return '';
  const m = /^(?:module\.)?exports\.([A-Za-z_$][\w$]*)$/.exec(text);
  return m ? m[1] : null;
}

function objectMethods(
  obj: ts.ObjectLiteralExpression,
  prefix: string,
  anchorFallback: ts.Node,
  exported: boolean,
  out: Candidate[],
): void {
  for (const p of obj.properties) {
    if (ts.isMethodDeclaration(p) && ts.isIdentifier(p.name) && p.body)
      out.push({ name: prefix + p.name.text, fn: p, anchor: p, exported });
    else if (ts.isPropertyAssignment(p) && ts.isIdentifier(p.name) && isFunctionValue(p.initializer)) {
      out.push({ name: prefix + p.name.text, fn: p.initializer, anchor: p ?? anchorFallback, exported });
    }
  }
}

function candidates(sf: ts.SourceFile): Candidate[] {
  const out: Candidate[] = [];
  for (const stmt of sf.statements) {
    const exported = hasModifier(stmt, ts.SyntaxKind.ExportKeyword);
    if (ts.isFunctionDeclaration(stmt) && stmt.body) {
      const isDefault = exported && hasModifier(stmt, ts.SyntaxKind.DefaultKeyword);
      const name = stmt.name?.text ?? (isDefault ? 'default' : undefined);
      if (name) out.push({ name, fn: stmt, anchor: stmt, exported, defaultExport: isDefault });
    } else if (ts.isVariableStatement(stmt)) {
      for (const d of stmt.declarationList.declarations) {
        if (!ts.isIdentifier(d.name)) continue;
        if (isFunctionValue(d.initializer)) out.push({ name: d.name.text, fn: d.initializer, anchor: stmt, exported });
        else if (d.initializer && ts.isObjectLiteralExpression(d.initializer))
          objectMethods(d.initializer, `${d.name.text}.`, stmt, exported, out);
      }
    } else if (ts.isExportAssignment(stmt) && isFunctionValue(stmt.expression)) {
      out.push({ name: 'default', fn: stmt.expression, anchor: stmt, exported: true });
    } else if (
      ts.isExpressionStatement(stmt) &&
      ts.isBinaryExpression(stmt.expression) &&
      stmt.expression.operatorToken.kind === ts.SyntaxKind.EqualsToken
    ) {
      const { left, right } = stmt.expression;
      const target = commonJsTarget(left, sf);
      if (target === null) continue;
      if (isFunctionValue(right)) out.push({ name: target || 'default', fn: right, anchor: stmt, exported: true });
      else if (target === '' && ts.isObjectLiteralExpression(right)) objectMethods(right, '', stmt, true, out);
    }
  }
  return out;
}

/** Names exported apart from their declaration: `module.exports = { a, b: c }`, `export { a, c as b }`. */
function namedExports(sf: ts.SourceFile): Set<string> {
  const names = new Set<string>();
  for (const stmt of sf.statements) {
    if (ts.isExportDeclaration(stmt) && !stmt.moduleSpecifier && stmt.exportClause && ts.isNamedExports(stmt.exportClause)) {
      for (const el of stmt.exportClause.elements) names.add((el.propertyName ?? el.name).text);
    } else if (
      ts.isExpressionStatement(stmt) &&
      ts.isBinaryExpression(stmt.expression) &&
      commonJsTarget(stmt.expression.left, sf) === '' &&
      ts.isObjectLiteralExpression(stmt.expression.right)
    ) {
      for (const p of stmt.expression.right.properties) {
        if (ts.isShorthandPropertyAssignment(p)) names.add(p.name.text);
        else if (ts.isPropertyAssignment(p) && ts.isIdentifier(p.initializer)) names.add(p.initializer.text);
      }
    }
  }
  return names;
}

/** `f`, `obj.f` or `this.f` for a call's callee; null for anything else. */
function calleeName(callee: ts.Expression): string | null {
  if (ts.isIdentifier(callee)) return callee.text;
  if (!ts.isPropertyAccessExpression(callee)) return null;
  const owner = callee.expression;
  if (ts.isIdentifier(owner)) return `${owner.text}.${callee.name.text}`;
  return owner.kind === ts.SyntaxKind.ThisKeyword ? `this.${callee.name.text}` : null;
}

function unwrapValue(e: ts.Expression): ts.Expression {
  while (ts.isAwaitExpression(e) || ts.isParenthesizedExpression(e) || ts.isAsExpression(e) || ts.isNonNullExpression(e)) e = e.expression;
  return e;
}

/**
 * Whether `fn` calls tf.sequential/tf.model itself, and which callees' results it returns
 * (`return make()`, or `m = make(); ... return m`): a function that only uses another builder's model (trains
 * it, counts its parameters) is no builder itself.
 */
function callsIn(fn: FunctionNode, aliases: TfAliases): { buildsModel: boolean; returned: Set<string> } {
  const assigned = new Map<string, Set<string>>();
  const returnedExprs: ts.Expression[] = [];
  let buildsModel = false;
  const noteAssignment = (target: ts.Node, value: ts.Expression) => {
    const v = unwrapValue(value);
    const name = ts.isCallExpression(v) ? calleeName(v.expression) : null;
    if (name && ts.isIdentifier(target)) assigned.set(target.text, (assigned.get(target.text) ?? new Set()).add(name));
  };
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node)) {
      if (modelBuilderKind(node.expression, aliases)) buildsModel = true;
    } else if (ts.isVariableDeclaration(node) && node.initializer) noteAssignment(node.name, node.initializer);
    else if (ts.isBinaryExpression(node) && node.operatorToken.kind === ts.SyntaxKind.EqualsToken) noteAssignment(node.left, node.right);
    else if (ts.isReturnStatement(node) && node.expression) returnedExprs.push(node.expression);
    ts.forEachChild(node, visit);
  };
  if (fn.body) visit(fn.body);
  if (fn.body && !ts.isBlock(fn.body)) returnedExprs.push(fn.body);
  const returned = new Set<string>();
  for (const e of returnedExprs.map(unwrapValue)) {
    const name = ts.isCallExpression(e) ? calleeName(e.expression) : null;
    if (name) returned.add(name);
    if (ts.isIdentifier(e)) for (const n of assigned.get(e.text) ?? []) returned.add(n);
  }
  return { buildsModel, returned };
}

/** True when `fn` returns a value (`main()` that builds and trains a model but returns nothing is no builder). */
function returnsValue(fn: FunctionNode): boolean {
  if (!fn.body) return false;
  if (!ts.isBlock(fn.body)) return true;
  let found = false;
  const visit = (node: ts.Node): void => {
    if (found || (ts.isFunctionLike(node) && node !== fn)) return;
    if (ts.isReturnStatement(node) && node.expression) found = true;
    else ts.forEachChild(node, visit);
  };
  ts.forEachChild(fn.body, visit);
  return found;
}

function paramOf(p: ts.ParameterDeclaration, sf: ts.SourceFile): BuilderParam {
  return {
    name: p.name.getText(sf),
    ...(p.initializer ? { defaultText: p.initializer.getText(sf) } : {}),
    rest: p.dotDotDotToken !== undefined,
    optional: p.questionToken !== undefined,
  };
}

export function collectAliases(sf: ts.SourceFile): TfAliases {
  const aliases = emptyAliases();
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) || ts.isImportEqualsDeclaration(node) || ts.isVariableDeclaration(node)) collectAlias(node, aliases);
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return aliases;
}

/** Every builder function of a parsed file, in source order. */
export function findBuilderFunctions(sf: ts.SourceFile, aliases: TfAliases = collectAliases(sf)): BuilderFunction[] {
  const all = candidates(sf)
    .filter((c) => returnsValue(c.fn))
    .map((c) => ({ ...c, ...callsIn(c.fn, aliases) }));
  const builders = new Set(all.filter((c) => c.buildsModel).map((c) => c.name));
  // Transitive: a function returning what a builder of this file returned is one too (fixpoint over the call graph).
  for (let changed = true; changed;) {
    changed = false;
    for (const c of all) {
      if (builders.has(c.name)) continue;
      // `this.block()` inside a method of `models` means `models.block`.
      const owner = c.name.includes('.') ? `${c.name.slice(0, c.name.lastIndexOf('.'))}.` : '';
      if ([...c.returned].some((callee) => builders.has(callee.startsWith('this.') ? owner + callee.slice(5) : callee))) {
        builders.add(c.name);
        changed = true;
      }
    }
  }
  const exportedNames = namedExports(sf);
  return all
    .filter((c) => builders.has(c.name))
    .map((c) => {
      const params = c.fn.parameters.map((p) => paramOf(p, sf));
      const firstOptional = params.findIndex((p) => p.defaultText !== undefined || p.rest || p.optional);
      const start = c.anchor.getStart(sf);
      const { line, character } = sf.getLineAndCharacterOfPosition(start);
      return {
        name: c.name,
        params,
        required: firstOptional < 0 ? params.length : firstOptional,
        exported: c.exported || exportedNames.has(c.name),
        defaultExport: c.defaultExport === true || c.name === 'default',
        line: line + 1,
        column: character + 1,
        start,
        end: c.anchor.end,
      };
    });
}

export function parseSource(text: string, fileName: string): ts.SourceFile {
  return ts.createSourceFile(
    fileName,
    text,
    { languageVersion: ts.ScriptTarget.Latest, jsDocParsingMode: ts.JSDocParsingMode.ParseNone },
    true,
    scriptKindOf(fileName),
  );
}

/** Builder functions of `text` (parsed here). */
export function builderFunctionsIn(text: string, fileName: string): BuilderFunction[] {
  return findBuilderFunctions(parseSource(text, fileName));
}

/** `createModel(inputShape, units = 32)`: the signature as written, for input boxes and messages. */
export function signatureOf(f: Pick<BuilderFunction, 'name' | 'params'>): string {
  const params = f.params.map(
    (p) => `${p.rest ? '...' : ''}${p.name}${p.optional ? '?' : ''}${p.defaultText !== undefined ? ` = ${p.defaultText}` : ''}`,
  );
  return `${f.name}(${params.join(', ')})`;
}

/** Names of the required parameters a call with `given` arguments leaves out. */
export function missingParams(f: Pick<BuilderFunction, 'params' | 'required'>, given: number): string[] {
  return f.params.slice(given, f.required).map((p) => p.name);
}

/** Top-level bindings to expose so every builder is callable: `models.dense` needs `models`. */
export function bindingsToExpose(builders: readonly Pick<BuilderFunction, 'name'>[], requested?: string): string[] {
  const names = builders.map((b) => b.name.split('.')[0]).filter((n) => n !== 'default');
  if (requested) names.push(requested.split('.')[0]);
  return [...new Set(names)];
}

/**
 * What the bundle of `file` must expose for a run of `requested` (or of any builder): the host compiles
 * the model for a worker under the permission model, so it needs this list before the worker sees the file.
 */
export function exposedBindingsOf(text: string, file: string, requested?: string): string[] {
  return bindingsToExpose(builderFunctionsIn(text, file), requested);
}
