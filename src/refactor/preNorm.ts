/**
 * Post-norm → pre-norm for functional residual blocks:
 *   y = LN(add([x, F(x)]))   becomes   xNorm = LN(x); y = add([x, F(xNorm)])
 * The skip path then carries x unnormalized, so gradients reach early blocks through the identity
 * (Xiong et al. 2020), which is why pre-norm transformers train without warm-up.
 * Recognised: `ln.apply(tf.layers.add().apply([x, f(x)]))`, with the sum inline or in a variable,
 * the LayerNorm chained or bound, and F inline or built in earlier `const h = ...` statements.
 */
import ts from 'typescript';
import type { LayerCall, ParsedModelSource } from '../analysis/layerCalls';
import { fileStyle } from './fileStyle';
import { pickCall } from './locate';
import { enclosingStatement, indentAt, lineStart, nodeAt, startsLine } from './sourceText';
import { finish, RefactorError, type RefactorResult, type RefactorTarget, type TextEdit } from './types';

function unwrap(expr: ts.Expression): ts.Expression {
  while (ts.isParenthesizedExpression(expr) || ts.isAsExpression(expr) || ts.isNonNullExpression(expr)) expr = expr.expression;
  return expr;
}

function scopeOf(node: ts.Node): ts.Node {
  let n = node.parent;
  while (n && !ts.isFunctionLike(n) && !ts.isSourceFile(n)) n = n.parent;
  return n;
}

/** Identifiers in `node` used as values (not property names or declared names). */
function valueIdentifiers(node: ts.Node): ts.Identifier[] {
  const out: ts.Identifier[] = [];
  const visit = (n: ts.Node): void => {
    if (ts.isIdentifier(n)) {
      const p = n.parent;
      const isName =
        (ts.isPropertyAccessExpression(p) && p.name === n) ||
        (ts.isPropertyAssignment(p) && p.name === n) ||
        (ts.isVariableDeclaration(p) && p.name === n) ||
        (ts.isBindingElement(p) && p.name === n);
      if (!isName) out.push(n);
    }
    ts.forEachChild(n, visit);
  };
  visit(node);
  return out;
}

/** Initializers of variables declared in `scope` before `before`, by name (the last declaration wins). */
function declarationsBefore(scope: ts.Node, before: number): Map<string, ts.Expression> {
  const out = new Map<string, ts.Expression>();
  const visit = (n: ts.Node): void => {
    if (n !== scope && ts.isFunctionLike(n)) return;
    if (ts.isVariableDeclaration(n) && ts.isIdentifier(n.name) && n.initializer && n.end <= before) out.set(n.name.text, n.initializer);
    ts.forEachChild(n, visit);
  };
  visit(scope);
  return out;
}

/** Uses of `name` inside `expr` and inside the initializers of the variables `expr` is computed from. */
function usesThrough(expr: ts.Node, name: string, declarations: Map<string, ts.Expression>, seen = new Set<string>()): ts.Identifier[] {
  const uses: ts.Identifier[] = [];
  for (const id of valueIdentifiers(expr)) {
    if (id.text === name) {
      uses.push(id);
      continue;
    }
    const init = declarations.get(id.text);
    if (init && !seen.has(id.text)) {
      seen.add(id.text);
      uses.push(...usesThrough(init, name, declarations, seen));
    }
  }
  return uses;
}

/** The written type of `name` in `scope` (`x: tf.SymbolicTensor`, or `= ... as T`), so the new variable gets the same. */
function declaredType(scope: ts.Node, name: string, before: number, sf: ts.SourceFile): string | null {
  if (ts.isFunctionLike(scope)) {
    const param = scope.parameters.find((p) => ts.isIdentifier(p.name) && p.name.text === name);
    if (param) return param.type ? param.type.getText(sf) : null;
  }
  let found: string | null = null;
  const visit = (n: ts.Node): void => {
    if (n !== scope && ts.isFunctionLike(n)) return;
    if (ts.isVariableDeclaration(n) && ts.isIdentifier(n.name) && n.name.text === name && n.end <= before) {
      found = n.type ? n.type.getText(sf) : n.initializer && ts.isAsExpression(n.initializer) ? n.initializer.type.getText(sf) : null;
    }
    ts.forEachChild(n, visit);
  };
  visit(scope);
  return found;
}

function uniqueName(sf: ts.SourceFile, base: string): string {
  const used = new Set(valueIdentifiers(sf).map((i) => i.text));
  const taken = (n: string) => used.has(n) || new RegExp(`\\b${n}\\b`).test(sf.text);
  if (!taken(base)) return base;
  for (let i = 2; ; i++) if (!taken(`${base}${i}`)) return `${base}${i}`;
}

/** `const sum = <expr> as T;` → 'sum' for the `<expr>` node. */
function assignedTo(node: ts.Node): string | null {
  let n = node;
  while (
    ts.isAsExpression(n.parent) ||
    ts.isParenthesizedExpression(n.parent) ||
    ts.isNonNullExpression(n.parent) ||
    ts.isSatisfiesExpression(n.parent)
  )
    n = n.parent;
  const p = n.parent;
  if (ts.isVariableDeclaration(p) && ts.isIdentifier(p.name)) return p.name.text;
  if (ts.isBinaryExpression(p) && p.operatorToken.kind === ts.SyntaxKind.EqualsToken && ts.isIdentifier(p.left)) return p.left.text;
  return null;
}

/** The norm at the target, or the one applied to the sum of the `add` layer at the target. */
function postNormAt(parsed: ParsedModelSource, target: RefactorTarget): LayerCall {
  const what = 'normalization applied to a residual sum (post-norm)';
  try {
    return pickCall(parsed, target, (c) => c.isNorm && c.apply !== null, what);
  } catch (error) {
    const add = pickCall(parsed, target, (c) => c.className === 'Add' && c.apply !== null, what);
    const addApply = nodeAt(parsed.sourceFile, add.apply!.start, add.apply!.end, [ts.SyntaxKind.CallExpression]);
    const sumName = addApply ? assignedTo(addApply) : null;
    const norm = parsed.calls.find(
      (c) =>
        c.isNorm &&
        c.apply &&
        ((c.apply.start <= add.start && add.end <= c.apply.end) ||
          (sumName !== null && c.apply.inputs.length === 1 && c.apply.inputs[0] === sumName)),
    );
    if (!norm) throw error;
    return norm;
  }
}

export function toPreNorm(text: string, parsed: ParsedModelSource, target: RefactorTarget): RefactorResult {
  const norm = postNormAt(parsed, target);
  const sf = parsed.sourceFile;
  const fail = (why: string): never => {
    throw new RefactorError(
      `cannot convert to pre-norm: ${why}. Expected y = ln.apply(tf.layers.add().apply([x, f(x)]))`,
      parsed.fileName,
      norm.line,
    );
  };
  const normApply = nodeAt(sf, norm.apply!.start, norm.apply!.end, [ts.SyntaxKind.CallExpression]) as ts.CallExpression;
  if (normApply.arguments.length !== 1) fail(`the ${norm.className} takes ${normApply.arguments.length} arguments`);
  const sumArg = normApply.arguments[0];
  const scope = scopeOf(normApply);
  const declarations = declarationsBefore(scope, normApply.getStart(sf));
  // The sum: inline, or a variable initialised with it.
  let sum = unwrap(sumArg);
  if (ts.isIdentifier(sum)) sum = unwrap(declarations.get(sum.text) ?? sum);
  const add = parsed.calls.find((c) => c.className === 'Add' && c.apply && c.apply.start === sum.getStart(sf) && c.apply.end === sum.end);
  if (!add || !ts.isCallExpression(sum)) return fail(`the ${norm.className} is not applied to the output of an add layer`);
  const list = sum.arguments[0] && unwrap(sum.arguments[0]);
  if (!list || !ts.isArrayLiteralExpression(list) || list.elements.length !== 2)
    return fail('the add layer does not sum exactly two tensors');

  // The skip input x is the element the other one (the branch) is computed from.
  const addDeclarations = declarationsBefore(scope, sum.getStart(sf));
  let skip: ts.Identifier | undefined;
  let uses: ts.Identifier[] = [];
  for (const [i, j] of [
    [0, 1],
    [1, 0],
  ]) {
    const candidate = unwrap(list.elements[i]);
    if (!ts.isIdentifier(candidate)) continue;
    const found = usesThrough(list.elements[j], candidate.text, addDeclarations);
    if (found.length > 0) {
      skip = candidate;
      uses = found;
      break;
    }
  }
  if (!skip) return fail('neither summed tensor is a variable that the other is computed from');

  const style = fileStyle(parsed, text);
  const semi = style.semicolon ? ';' : '';
  let normLayer: string;
  if (norm.binding === null) {
    normLayer = text.slice(norm.start, norm.end);
  } else {
    const decl = declarations.get(norm.binding);
    if (!decl || decl.end > Math.min(...uses.map((u) => u.getStart(sf))))
      return fail(`declare ${norm.binding} before the block's first layer`);
    normLayer = norm.binding;
  }
  const xNorm = uniqueName(sf, `${skip.text}Norm`);
  const edits: TextEdit[] = uses.map((u) => ({ start: u.getStart(sf), end: u.end, newText: xNorm }));
  // The sum stays; the norm around it goes.
  edits.push(
    { start: normApply.getStart(sf), end: sumArg.getStart(sf), newText: '' },
    { start: sumArg.end, end: normApply.end, newText: '' },
  );

  const first = uses.reduce((a, b) => (b.getStart(sf) < a.getStart(sf) ? b : a));
  const statement = enclosingStatement(first) ?? fail('the branch is not inside a statement');
  const stmtStart = statement.getStart(sf);
  const indent = indentAt(text, stmtStart);
  const type = style.typeScript ? declaredType(scope, skip.text, normApply.getStart(sf), sf) : null;
  const declaration = `const ${xNorm} = ${normLayer}.apply(${skip.text})${type ? ` as ${type}` : ''}${semi}`;
  const comment = `// NormScope: pre-norm. ${norm.className} now normalizes the branch input and the skip path stays the identity; add one final ${norm.className} after the last block.`;
  const inserted = startsLine(text, stmtStart)
    ? { start: lineStart(text, stmtStart), newText: `${indent}${comment}${style.eol}${indent}${declaration}${style.eol}` }
    : { start: stmtStart, newText: `${declaration} ` };
  edits.push({ ...inserted, end: inserted.start });
  return finish(text, parsed.fileName, edits, [], `Converted the post-norm residual block at line ${norm.line} to pre-norm.`);
}
