/**
 * Structural refactors around one layer call: insert a normalization after it, remove a
 * normalization, wrap a Dense/Conv in WeightNormalization, drop an L2 kernel regularizer that a
 * following normalization makes pointless. Each works on sequential arrays, `model.add(...)`
 * statements and functional `.apply(...)` chains.
 */
import ts from 'typescript';
import type { LayerCall, ParsedModelSource } from '../analysis/layerCalls';
import { ensureNormLayersImport, fileStyle } from './fileStyle';
import { pickCall } from './locate';
import { NORM_SPECS } from './normKinds';
import { deleteListElements, enclosingStatement, indentAt, lineStart, nodeAt, startsLine } from './sourceText';
import { prepareNorm } from './swap';
import { finish, RefactorError, type NormKind, type RefactorResult, type RefactorTarget, type TextEdit } from './types';

const CALL_KINDS = [ts.SyntaxKind.CallExpression, ts.SyntaxKind.NewExpression];
/** Layers whose kernel WeightNormalization can reparameterize (output units on the kernel's last axis). */
export const WEIGHT_NORMALIZABLE: ReadonlySet<string> = new Set(['Dense', 'Conv1D', 'Conv2D', 'Conv3D']);

function callNode(parsed: ParsedModelSource, call: LayerCall): ts.Expression {
  return nodeAt(parsed.sourceFile, call.start, call.end, CALL_KINDS) as ts.Expression;
}

/** `model.add(<node>)` → the `model.add` callee text and its statement, when that is how the layer is added. */
function addStatementOf(node: ts.Node): { receiver: string; statement: ts.Statement } | null {
  const parent = node.parent;
  if (
    ts.isCallExpression(parent) &&
    parent.arguments.length === 1 &&
    parent.arguments[0] === node &&
    ts.isPropertyAccessExpression(parent.expression) &&
    parent.expression.name.text === 'add' &&
    ts.isExpressionStatement(parent.parent)
  ) {
    return { receiver: parent.expression.expression.getText(node.getSourceFile()), statement: parent.parent };
  }
  return null;
}

/** Deletes a statement with its line when it stands alone on it. */
function deleteStatement(text: string, sf: ts.SourceFile, stmt: ts.Statement): TextEdit {
  const start = stmt.getStart(sf);
  const rest = /^[ \t]*(\/\/[^\n]*)?(\r?\n|$)/.exec(text.slice(stmt.end));
  return startsLine(text, start) && rest
    ? { start: lineStart(text, start), end: stmt.end + rest[0].length, newText: '' }
    : { start, end: stmt.end, newText: '' };
}

function identifierCount(sf: ts.SourceFile, name: string): number {
  let count = 0;
  const visit = (node: ts.Node): void => {
    if (ts.isIdentifier(node) && node.text === name) count++;
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return count;
}

/** `model.add(<name>)` statements anywhere in the file. */
function addStatementsOfBinding(sf: ts.SourceFile, name: string): ts.Statement[] {
  const out: ts.Statement[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isIdentifier(node) && node.text === name) {
      const added = addStatementOf(node);
      if (added) out.push(added.statement);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

export function insertNormAfter(text: string, parsed: ParsedModelSource, target: RefactorTarget, norm: NormKind): RefactorResult {
  const call = pickCall(parsed, target, (c) => !c.isNorm && c.className !== 'InputLayer', 'layer to add a normalization after');
  const spec = NORM_SPECS[norm];
  if (!spec) throw new RefactorError(`unknown normalization '${norm}'`, parsed.fileName, call.line);
  const sf = parsed.sourceFile;
  const style = fileStyle(parsed, text);
  const prepared = prepareNorm(parsed, text, style, spec, call.start);
  const normCall = `${prepared.callee}()`;
  const node = callNode(parsed, call);
  const edits = [...prepared.edits];
  const added = addStatementOf(node);
  if (call.apply) {
    // Functional API: normalize this layer's output where it is produced.
    edits.push(
      { start: call.apply.start, end: call.apply.start, newText: `${normCall}.apply(` },
      { start: call.apply.end, end: call.apply.end, newText: ')' },
    );
  } else if (ts.isArrayLiteralExpression(node.parent)) {
    const elements = node.parent.elements;
    const next = elements[elements.indexOf(node) + 1];
    const closing = node.parent.end - 1;
    const multiline = text.slice(node.end, next ? next.getStart(sf) : closing).includes('\n');
    edits.push({
      start: node.end,
      end: node.end,
      newText: multiline ? `,${style.eol}${indentAt(text, call.start)}${normCall}` : `, ${normCall}`,
    });
  } else if (added) {
    const semi = style.semicolon ? ';' : '';
    edits.push({
      start: added.statement.end,
      end: added.statement.end,
      newText: `${style.eol}${indentAt(text, added.statement.getStart(sf))}${added.receiver}.add(${normCall})${semi}`,
    });
  } else {
    throw new RefactorError(
      `cannot tell where the output of this ${call.className} goes (not in a layers array, a model.add(...) or an .apply(...)); add the normalization by hand`,
      parsed.fileName,
      call.line,
    );
  }
  return finish(
    text,
    parsed.fileName,
    edits,
    prepared.extraFiles,
    `Inserted ${spec.className} after the ${call.className} on line ${call.line}.`,
  );
}

export function removeNorm(text: string, parsed: ParsedModelSource, target: RefactorTarget): RefactorResult {
  const call = pickCall(parsed, target, (c) => c.isNorm, 'normalization call to remove');
  const sf = parsed.sourceFile;
  const node = callNode(parsed, call);
  const edits: TextEdit[] = [];
  const added = addStatementOf(node);
  const declaration = call.binding !== null ? enclosingStatement(node) : undefined;
  /** The `const bn = ...` statement of a bound layer, when nothing else refers to it. */
  const bindingStatement = (uses: number): ts.Statement | undefined =>
    declaration &&
    ts.isVariableStatement(declaration) &&
    declaration.declarationList.declarations.length === 1 &&
    identifierCount(sf, call.binding!) === uses
      ? declaration
      : undefined;
  if (call.apply) {
    if (call.apply.inputs.length !== 1)
      throw new RefactorError(
        `this ${call.className} is applied to ${call.apply.inputs.length} inputs; remove it by hand`,
        parsed.fileName,
        call.line,
      );
    edits.push({ start: call.apply.start, end: call.apply.end, newText: call.apply.inputs[0] });
    const unused = bindingStatement(2);
    if (unused) edits.push(deleteStatement(text, sf, unused));
  } else if (ts.isArrayLiteralExpression(node.parent)) {
    edits.push(...deleteListElements(text, sf, node.parent.elements, new Set([node.parent.elements.indexOf(node as ts.Expression)])));
  } else if (added) {
    edits.push(deleteStatement(text, sf, added.statement));
  } else if (call.binding !== null && addStatementsOfBinding(sf, call.binding).length > 0) {
    const adds = addStatementsOfBinding(sf, call.binding);
    edits.push(...adds.map((s) => deleteStatement(text, sf, s)));
    const unused = bindingStatement(1 + adds.length);
    if (unused) edits.push(deleteStatement(text, sf, unused));
  } else {
    throw new RefactorError(
      `cannot tell how this ${call.className} is wired into the model; remove it by hand`,
      parsed.fileName,
      call.line,
    );
  }
  return finish(text, parsed.fileName, edits, [], `Removed the ${call.className} on line ${call.line}.`);
}

export function wrapInWeightNorm(text: string, parsed: ParsedModelSource, target: RefactorTarget): RefactorResult {
  const call = pickCall(parsed, target, (c) => WEIGHT_NORMALIZABLE.has(c.className), 'Dense or Conv layer to wrap in WeightNormalization');
  const wrapper = parsed.calls.find((c) => c.className === 'WeightNormalization' && c.start < call.start && call.end <= c.end);
  if (wrapper) throw new RefactorError(`this ${call.className} is already wrapped in WeightNormalization`, parsed.fileName, call.line);
  const style = fileStyle(parsed, text);
  const imported = ensureNormLayersImport(parsed, text, style, ['WeightNormalization'], call.start);
  const edits: TextEdit[] = [
    ...imported.edits,
    { start: call.start, end: call.start, newText: `new ${imported.refs.get('WeightNormalization')}({ layer: ` },
    { start: call.end, end: call.end, newText: ' })' },
  ];
  return finish(
    text,
    parsed.fileName,
    edits,
    [imported.file],
    `Wrapped the ${call.className} on line ${call.line} in WeightNormalization.`,
  );
}

/** The layer whose kernel regularizer to drop: the one at the target, else the nearest one before the norm there. */
function regularizedLayer(parsed: ParsedModelSource, target: RefactorTarget): LayerCall {
  const hasRegularizer = (c: LayerCall) => c.config?.kernelRegularizer !== undefined;
  try {
    return pickCall(parsed, target, hasRegularizer, 'layer with a kernelRegularizer');
  } catch (error) {
    const norm = pickCall(parsed, target, (c) => c.isNorm, 'layer with a kernelRegularizer or normalization');
    const before = parsed.calls.filter((c) => c.end <= norm.start && c.model === norm.model && !c.isNorm);
    const previous = before[before.length - 1];
    if (previous && hasRegularizer(previous)) return previous;
    throw error;
  }
}

export function removeKernelRegularizer(text: string, parsed: ParsedModelSource, target: RefactorTarget): RefactorResult {
  const call = regularizedLayer(parsed, target);
  const sf = parsed.sourceFile;
  const obj = nodeAt(sf, call.configStart!, call.configEnd!, [ts.SyntaxKind.ObjectLiteralExpression]) as ts.ObjectLiteralExpression;
  const index = obj.properties.findIndex(
    (p) => p.name !== undefined && (ts.isIdentifier(p.name) || ts.isStringLiteral(p.name)) && p.name.text === 'kernelRegularizer',
  );
  const at = lineStart(text, call.start);
  const comment = `${indentAt(text, call.start)}// NormScope: removed kernelRegularizer: ${call.config!.kernelRegularizer.text.replace(/\s+/g, ' ')}. The normalization after this layer undoes any weight scale, so L2 here only shrinks the weights and raises the effective learning rate.${fileStyle(parsed, text).eol}`;
  const edits = [{ start: at, end: at, newText: comment }, ...deleteListElements(text, sf, obj.properties, new Set([index]))];
  return finish(text, parsed.fileName, edits, [], `Removed the kernelRegularizer of the ${call.className} on line ${call.line}.`);
}
