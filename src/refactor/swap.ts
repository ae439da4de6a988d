/**
 * Swap one normalization layer for another, e.g. BatchNorm → GroupNorm at small batch sizes.
 * Options with a meaning in the target are kept as written; the rest are removed and named in a
 * comment above the call. Only the callee and the removed options change, so formatting survives.
 */
import ts from 'typescript';
import type { LayerCall, ParsedModelSource } from '../analysis/layerCalls';
import { dropNormLayersImport, ensureNormLayersImport, fileStyle, type FileStyle } from './fileStyle';
import { pickCall } from './locate';
import { describeDropped, NORM_SPECS, optionsToDrop, specOfClass, type NormSpec, type OptionInfo } from './normKinds';
import { deleteListElements, indentAt, lineStart, nodeAt } from './sourceText';
import { finish, RefactorError, type ExtraFile, type NormKind, type RefactorResult, type RefactorTarget, type TextEdit } from './types';

/** Norm calls a swap can start from (WeightNormalization wraps a layer rather than normalizing activations). */
export function isSwappableNorm(call: LayerCall): boolean {
  return specOfClass(call.className) !== undefined;
}

/** The text that creates a `spec` layer, up to its argument list: `tf.layers.layerNormalization` or `new GroupNormalization`. */
export function calleeFor(spec: NormSpec, style: FileStyle, refs: ReadonlyMap<string, string>): string {
  return spec.source === 'tf' ? `${style.layersPrefix}${spec.factory}` : `new ${refs.get(spec.className) ?? spec.className}`;
}

/** Edits and files that make `spec` constructible in this file (an import when it is one of ours). */
export function prepareNorm(
  parsed: ParsedModelSource,
  text: string,
  style: FileStyle,
  spec: NormSpec,
  firstUse: number,
): { edits: TextEdit[]; extraFiles: ExtraFile[]; callee: string } {
  if (spec.source === 'tf') return { edits: [], extraFiles: [], callee: calleeFor(spec, style, new Map()) };
  const imported = ensureNormLayersImport(parsed, text, style, [spec.className], firstUse);
  return { edits: imported.edits, extraFiles: [imported.file], callee: calleeFor(spec, style, imported.refs) };
}

export function swapNorm(text: string, parsed: ParsedModelSource, target: RefactorTarget, to: NormKind): RefactorResult {
  const call = pickCall(parsed, target, isSwappableNorm, 'normalization call to swap');
  const from = specOfClass(call.className)!;
  const toSpec = NORM_SPECS[to];
  if (!toSpec)
    throw new RefactorError(`unknown normalization '${to}'; use one of ${Object.keys(NORM_SPECS).join(', ')}`, parsed.fileName, call.line);
  if (from.kind === to) throw new RefactorError(`this is already a ${from.className}`, parsed.fileName, call.line);
  const sf = parsed.sourceFile;
  const style = fileStyle(parsed, text);
  const prepared = prepareNorm(parsed, text, style, toSpec, call.start);
  const edits: TextEdit[] = [...prepared.edits];

  // `new X` without parentheses has no argument list to keep.
  const hasParens = text.slice(call.calleeEnd, call.end).trim().startsWith('(');
  edits.push({ start: call.start, end: call.calleeEnd, newText: prepared.callee + (hasParens ? '' : '()') });

  const obj =
    call.configStart !== null && call.configEnd !== null
      ? (nodeAt(sf, call.configStart, call.configEnd, [ts.SyntaxKind.ObjectLiteralExpression]) as ts.ObjectLiteralExpression | undefined)
      : undefined;
  let dropped: ReturnType<typeof optionsToDrop> = [];
  if (obj) {
    const props = obj.properties;
    const infos: (OptionInfo | null)[] = props.map((p) => {
      if (!(ts.isPropertyAssignment(p) || ts.isShorthandPropertyAssignment(p) || ts.isMethodDeclaration(p))) return null;
      const name = ts.isIdentifier(p.name) || ts.isStringLiteral(p.name) ? p.name.text : null;
      if (name === null) return null;
      const value = call.config?.[name]?.value;
      return { name, text: call.config?.[name]?.text ?? p.getText(sf), ...(value !== undefined ? { value } : {}) };
    });
    dropped = optionsToDrop(
      infos.filter((i): i is OptionInfo => i !== null),
      from,
      toSpec,
    );
    const droppedNames = new Set(dropped.map((d) => d.name));
    const remove = new Set(infos.flatMap((info, i) => (info && droppedNames.has(info.name) ? [i] : [])));
    const onlyArgument = text.slice(call.argsStart, call.argsEnd).trim() === obj.getText(sf);
    if (remove.size > 0 && remove.size === props.length && onlyArgument) {
      edits.push({ start: call.argsStart, end: call.argsEnd, newText: '' });
    } else {
      edits.push(...deleteListElements(text, sf, props, remove));
    }
  }
  if (dropped.length > 0) {
    const at = lineStart(text, call.start);
    edits.push({
      start: at,
      end: at,
      newText: `${indentAt(text, call.start)}// NormScope: ${from.className} → ${toSpec.className}; dropped ${describeDropped(dropped)}.${style.eol}`,
    });
  }
  if (from.source === 'normscope' && call.via === 'new' && text.slice(call.calleeStart, call.calleeEnd) === from.className) {
    const drop = dropNormLayersImport(parsed, text, from.className, 2);
    const clash = prepared.edits.find((e) => drop.some((d) => d.start <= e.start && e.start <= d.end));
    if (clash) {
      // The old class was the import's only name: import the new one in its place.
      const at = text.indexOf(from.className, drop[0].start);
      edits.splice(edits.indexOf(clash), 1, { start: at, end: at + from.className.length, newText: toSpec.className });
    } else {
      edits.push(...drop);
    }
  }
  const description = `Swapped ${from.className} for ${toSpec.className} on line ${call.line}${dropped.length ? ` (dropped ${dropped.map((d) => d.name).join(', ')})` : ''}.`;
  return finish(text, parsed.fileName, edits, prepared.extraFiles, description);
}
