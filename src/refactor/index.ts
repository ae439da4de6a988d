/**
 * One-click normalization refactors over source text. Pure: text in, edits out; no file system, no
 * vscode. The editor turns a `RefactorResult` into one WorkspaceEdit (edits + `extraFiles` created
 * when absent); the CLI writes `newText` and the extra files.
 *
 *   availableRefactors(text, fileName, { offset })  → what to offer at the cursor, with titles
 *   applyRefactor(text, fileName, { line }, action) → the edits, or a RefactorError saying why not
 */
import { parseModelSource, type LayerCall, type ParsedModelSource } from '../analysis/layerCalls';
import { insertNormAfter, removeKernelRegularizer, removeNorm, WEIGHT_NORMALIZABLE, wrapInWeightNorm } from './layerEdits';
import { pickCall } from './locate';
import { NORM_SPECS } from './normKinds';
import { toPreNorm } from './preNorm';
import { isSwappableNorm, swapNorm } from './swap';
import { NORM_KINDS, RefactorError, type NormKind, type RefactorAction, type RefactorResult, type RefactorTarget } from './types';

export { RefactorError, NORM_KINDS, applyEdits, syntaxErrors } from './types';
export type { ExtraFile, NormKind, RefactorAction, RefactorResult, RefactorTarget, TextEdit } from './types';
export { NORM_SPECS } from './normKinds';
export { isNormKind } from '../protocol/vocabulary';

/** Applies one refactor. `parsed` may be passed when the caller already parsed this exact text. */
export function applyRefactor(
  text: string,
  fileName: string,
  target: RefactorTarget,
  action: RefactorAction,
  parsed?: ParsedModelSource,
): RefactorResult {
  const source = parsed ?? parseModelSource(text, fileName);
  switch (action.action) {
    case 'swap':
      return swapNorm(text, source, target, action.to);
    case 'insert-norm':
      return insertNormAfter(text, source, target, action.norm);
    case 'remove-norm':
      return removeNorm(text, source, target);
    case 'weight-norm':
      return wrapInWeightNorm(text, source, target);
    case 'pre-norm':
      return toPreNorm(text, source, target);
    case 'remove-regularizer':
      return removeKernelRegularizer(text, source, target);
  }
}

/** The normalization created at `line`, read from the source alone (the baseline of a what-if comparison). */
export function normAtLine(text: string, file: string, line: number): NormKind | undefined {
  const call = parseModelSource(text, file).calls.find((c) => c.line === line && c.isNorm);
  return call ? NORM_KINDS.find((k) => NORM_SPECS[k].className === call.className) : undefined;
}

/** Shorthand for `applyRefactor(..., { action: 'swap', to })`, what `normscope swap` runs. */
export function swapNormalization(text: string, fileName: string, target: RefactorTarget, to: NormKind): RefactorResult {
  return applyRefactor(text, fileName, target, { action: 'swap', to });
}

export interface OfferedRefactor {
  action: RefactorAction;
  /** Menu title: 'Swap to GroupNorm'. */
  title: string;
  /** The layer call it applies to. */
  call: LayerCall;
  /** Offset to pass back as the target (the call's start), so the right call on the line is used. */
  target: RefactorTarget;
}

export function titleOf(action: RefactorAction): string {
  switch (action.action) {
    case 'swap':
      return `Swap to ${NORM_SPECS[action.to].label}`;
    case 'insert-norm':
      return `Insert ${NORM_SPECS[action.norm].label} after this layer`;
    case 'remove-norm':
      return 'Remove this normalization';
    case 'weight-norm':
      return 'Wrap in WeightNormalization';
    case 'pre-norm':
      return 'Convert residual block to pre-norm';
    case 'remove-regularizer':
      return 'Remove kernelRegularizer (L2 before a norm only changes the effective learning rate)';
  }
}

/**
 * Refactors that apply at `target` (each was tried, so offering one means it will succeed):
 * swaps/remove/pre-norm on a norm call, insert/weight-norm/remove-regularizer on other layers.
 */
export function availableRefactors(text: string, fileName: string, target: RefactorTarget, parsed?: ParsedModelSource): OfferedRefactor[] {
  const source = parsed ?? parseModelSource(text, fileName);
  let call: LayerCall;
  try {
    call = pickCall(source, target, (c) => c.className !== 'InputLayer', 'layer');
  } catch (error) {
    if (error instanceof RefactorError) return [];
    throw error;
  }
  const at: RefactorTarget = { offset: call.start };
  const candidates: RefactorAction[] = [];
  if (isSwappableNorm(call)) {
    for (const to of NORM_KINDS) if (NORM_SPECS[to].className !== call.className) candidates.push({ action: 'swap', to });
  }
  if (call.isNorm) candidates.push({ action: 'remove-norm' }, { action: 'pre-norm' });
  else {
    if (call.className === 'Add') candidates.push({ action: 'pre-norm' });
    candidates.push(
      { action: 'insert-norm', norm: 'layerNorm' },
      { action: 'insert-norm', norm: 'batchNorm' },
      { action: 'insert-norm', norm: 'groupNorm' },
    );
    if (WEIGHT_NORMALIZABLE.has(call.className)) candidates.push({ action: 'weight-norm' });
  }
  if (call.config?.kernelRegularizer) candidates.push({ action: 'remove-regularizer' });
  const offered: OfferedRefactor[] = [];
  for (const action of candidates) {
    try {
      applyRefactor(text, fileName, at, action, source);
      offered.push({ action, title: titleOf(action), call, target: at });
    } catch (error) {
      if (!(error instanceof RefactorError)) throw error;
    }
  }
  return offered;
}
