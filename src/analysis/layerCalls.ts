/**
 * Finds where a file creates Keras-style layers (`tf.layers.dense(...)`, `new GroupNormalization(...)`)
 * and models (`tf.sequential`, `tf.model`, `createModel` factories), with offsets for editors and
 * refactors. One parse per text; the editor keeps the `ParsedModelSource` per document version.
 */
import ts from 'typescript';
import { readConfig, type LayerConfig } from './configLiteral';
import { classNameOfFactory, factoryOfClass, isKnownLayerClass, NORM_CLASSES, NORMSCOPE_NORM_FACTORIES } from './layerNames';
import { collectAlias, emptyAliases, type TfAliases } from './tfAliases';
import { findModelDefinitions as findModels, modelBuilderKind, type ModelDefinition } from './modelDefinitions';
import { callsByReceiver, ModelAttribution, Scopes } from './modelAttribution';

export type { ModelDefinition } from './modelDefinitions';
export type { ConfigProperty, LayerConfig, LiteralValue } from './configLiteral';

/** `layer.apply(inputs)`: how a layer is wired in the functional API. */
export interface LayerApply {
  /** Offsets of the `.apply(...)` call. */
  start: number;
  end: number;
  /** Source text of each input (elements of an array argument, else the single argument). */
  inputs: string[];
  /** Variable the output is assigned to (`const h = ...apply(x)`, `h = ...apply(h)`). */
  output: string | null;
}

export interface LayerCall {
  /** `batchNormalization` (for `new X(...)`, the canonical factory of the class). */
  factory: string;
  /** `BatchNormalization`. */
  className: string;
  /** 1-based position of the call's first character. */
  line: number;
  column: number;
  /** Offsets of the whole call / `new` expression. */
  start: number;
  end: number;
  /** Offsets of the callee (`tf.layers.batchNormalization`, or `X` in `new X(...)`). */
  calleeStart: number;
  calleeEnd: number;
  /** Offsets between the parentheses (argsStart is just after `(`, argsEnd just before `)`). */
  argsStart: number;
  argsEnd: number;
  /** Properties of the first argument when it is an object literal, else null. */
  config: LayerConfig | null;
  /** Offsets of that object literal. */
  configStart: number | null;
  configEnd: number | null;
  isNorm: boolean;
  /** How the layer is created. */
  via: 'factory' | 'new';
  /** Variable holding the layer object (`const bn = tf.layers.batchNormalization()`). */
  binding: string | null;
  /** The `.apply(...)` of this layer (chained, or through `binding`), for the functional API. */
  apply: LayerApply | null;
  /** Index into `ParsedModelSource.models` of the model this layer belongs to. */
  model: number | null;
}

export interface ParsedModelSource {
  fileName: string;
  calls: LayerCall[];
  models: ModelDefinition[];
  sourceFile: ts.SourceFile;
}

export function scriptKindOf(fileName: string): ts.ScriptKind {
  if (/\.tsx$/i.test(fileName)) return ts.ScriptKind.TSX;
  if (/\.[cm]?ts$/i.test(fileName)) return ts.ScriptKind.TS;
  if (/\.jsx$/i.test(fileName)) return ts.ScriptKind.JSX;
  return ts.ScriptKind.JS;
}

function unwrap(expr: ts.Expression): ts.Expression {
  while (ts.isParenthesizedExpression(expr) || ts.isNonNullExpression(expr)) expr = expr.expression;
  return expr;
}

/** The factory a callee names, or null: `tf.layers.dense`, `L.dense`, `dense` (destructured), `ns.groupNormalization`. */
function factoryOfCallee(callee: ts.Expression, aliases: TfAliases): string | null {
  callee = unwrap(callee);
  if (ts.isIdentifier(callee)) {
    return aliases.factories.get(callee.text) ?? null;
  }
  if (!ts.isPropertyAccessExpression(callee)) return null;
  const member = callee.name.text;
  const owner = unwrap(callee.expression);
  const isLayersNs =
    (ts.isIdentifier(owner) && aliases.layers.has(owner.text)) ||
    (ts.isPropertyAccessExpression(owner) &&
      owner.name.text === 'layers' &&
      ts.isIdentifier(unwrap(owner.expression)) &&
      aliases.namespaces.has((unwrap(owner.expression) as ts.Identifier).text));
  if (isLayersNs && /^[a-z]/.test(member)) return member;
  if (NORMSCOPE_NORM_FACTORIES.has(member)) return member;
  return null;
}

/** Class name of `new X(...)` / `new ns.X(...)` when X is a layer class we know. */
function classOfNew(expr: ts.Expression): string | null {
  expr = unwrap(expr);
  const name = ts.isIdentifier(expr) ? expr.text : ts.isPropertyAccessExpression(expr) ? expr.name.text : null;
  return name !== null && isKnownLayerClass(name) ? name : null;
}

function assignedName(node: ts.Node): string | null {
  const parent = node.parent;
  if (ts.isVariableDeclaration(parent) && parent.initializer === node && ts.isIdentifier(parent.name)) return parent.name.text;
  if (
    ts.isBinaryExpression(parent) &&
    parent.right === node &&
    parent.operatorToken.kind === ts.SyntaxKind.EqualsToken &&
    ts.isIdentifier(parent.left)
  )
    return parent.left.text;
  return null;
}

function applyOf(call: ts.CallExpression, sf: ts.SourceFile): LayerApply {
  const args = call.arguments;
  const first = args[0];
  const inputs = !first
    ? []
    : ts.isArrayLiteralExpression(first)
      ? first.elements.map((e) => e.getText(sf))
      : args.map((a) => a.getText(sf));
  return { start: call.getStart(sf), end: call.end, inputs, output: assignedName(call) };
}

/** The parsed tree and what one walk over it collects. */
interface SourceIndex {
  sf: ts.SourceFile;
  aliases: TfAliases;
  calls: ts.CallExpression[];
  news: ts.NewExpression[];
}

/**
 * Parses `text` and walks the tree once: sets parents, collects the TensorFlow.js aliases and every call and
 * `new` expression. Parents are set here rather than by the parser (one walk instead of two); JSDoc is not
 * needed for layer calls, and skipping it makes parsing noticeably cheaper.
 */
function indexSource(text: string, fileName: string): SourceIndex {
  const sf = ts.createSourceFile(
    fileName,
    text,
    { languageVersion: ts.ScriptTarget.Latest, jsDocParsingMode: ts.JSDocParsingMode.ParseNone },
    false,
    scriptKindOf(fileName),
  );
  const index: SourceIndex = { sf, aliases: emptyAliases(), calls: [], news: [] };
  let parent: ts.Node = sf;
  const visit = (node: ts.Node): void => {
    (node as { parent: ts.Node }).parent = parent;
    switch (node.kind) {
      case ts.SyntaxKind.ImportDeclaration:
      case ts.SyntaxKind.ImportEqualsDeclaration:
      case ts.SyntaxKind.VariableDeclaration:
        collectAlias(node, index.aliases);
        break;
      case ts.SyntaxKind.CallExpression:
        index.calls.push(node as ts.CallExpression);
        break;
      case ts.SyntaxKind.NewExpression:
        index.news.push(node as ts.NewExpression);
        break;
    }
    const saved = parent;
    parent = node;
    ts.forEachChild(node, visit);
    parent = saved;
  };
  ts.forEachChild(sf, visit);
  return index;
}

/** What turning a layer-creating node into a `LayerCall` needs besides the node. */
interface Attribution {
  sf: ts.SourceFile;
  scopes: Scopes;
  /** `x.apply(...)` calls by receiver name. */
  applies: Map<string, ts.CallExpression[]>;
  models: ModelAttribution;
}

/** The layer's `.apply(...)`: chained on the creation, else the first `binding.apply(...)` after it in the same function. */
function applyOfLayer(node: ts.CallExpression | ts.NewExpression, binding: string | null, at: Attribution): LayerApply | null {
  const parent = node.parent;
  if (
    ts.isPropertyAccessExpression(parent) &&
    parent.name.text === 'apply' &&
    ts.isCallExpression(parent.parent) &&
    parent.parent.expression === parent
  ) {
    return applyOf(parent.parent, at.sf);
  }
  if (binding === null) return null;
  const later = at.applies.get(binding)?.find((c) => c.pos >= node.end && at.scopes.same(c, node));
  return later ? applyOf(later, at.sf) : null;
}

function layerCallOf(
  node: ts.CallExpression | ts.NewExpression,
  factory: string,
  className: string,
  via: LayerCall['via'],
  at: Attribution,
): LayerCall {
  const { sf } = at;
  const start = node.getStart(sf);
  const { line, character } = sf.getLineAndCharacterOfPosition(start);
  const args = node.arguments;
  const first = args?.[0] ? unwrap(args[0]) : undefined;
  const obj = first && ts.isObjectLiteralExpression(first) ? first : null;
  const binding = assignedName(node);
  return {
    factory,
    className,
    line: line + 1,
    column: character + 1,
    start,
    end: node.end,
    calleeStart: node.expression.getStart(sf),
    calleeEnd: node.expression.end,
    argsStart: args ? args.pos : node.end,
    argsEnd: args ? args.end : node.end,
    config: obj ? readConfig(obj, sf) : null,
    configStart: obj ? obj.getStart(sf) : null,
    configEnd: obj ? obj.end : null,
    isNorm: NORM_CLASSES.has(className),
    via,
    binding,
    apply: applyOfLayer(node, binding, at),
    model: at.models.modelOf(node, binding),
  };
}

/** Parses `text` once and indexes its layer calls and model definitions. */
export function parseModelSource(text: string, fileName: string): ParsedModelSource {
  const { sf, aliases, calls, news } = indexSource(text, fileName);
  const models = findModels(sf, calls, aliases);
  const scopes = new Scopes();
  const at: Attribution = { sf, scopes, applies: callsByReceiver(calls, 'apply'), models: new ModelAttribution(sf, calls, models, scopes) };
  const layerCalls: LayerCall[] = [];
  for (const c of calls) {
    const factory = factoryOfCallee(c.expression, aliases);
    if (factory !== null && modelBuilderKind(c.expression, aliases) === null)
      layerCalls.push(layerCallOf(c, factory, classNameOfFactory(factory), 'factory', at));
  }
  for (const n of news) {
    const cls = classOfNew(n.expression);
    if (cls !== null) layerCalls.push(layerCallOf(n, factoryOfClass(cls) ?? cls, cls, 'new', at));
  }
  layerCalls.sort((a, b) => a.start - b.start);
  return { fileName, calls: layerCalls, models, sourceFile: sf };
}

/** Every layer creation in `text`, in source order. */
export function findLayerCalls(text: string, fileName: string): LayerCall[] {
  return parseModelSource(text, fileName).calls;
}

/** Every model definition in `text` (for CodeLens), in source order. */
export function findModelDefinitions(text: string, fileName: string): ModelDefinition[] {
  return parseModelSource(text, fileName).models;
}

/** The innermost layer call whose range contains `offset` (callee through closing parenthesis), or undefined. */
export function layerCallAt(calls: readonly LayerCall[], offset: number): LayerCall | undefined {
  let best: LayerCall | undefined;
  for (const c of calls) {
    if (c.start <= offset && offset <= c.end && (!best || c.end - c.start < best.end - best.start)) best = c;
  }
  return best;
}
