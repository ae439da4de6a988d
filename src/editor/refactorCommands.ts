/**
 * Refactor commands reached from hovers and the panel: "Swap normalization…" (pick a target norm) and
 * "Compare normalizations…" (what-if runs of each candidate, then Apply the chosen one).
 */
import * as vscode from 'vscode';
import { isNormKind, type NormKind } from '../protocol';
import { NORM_SPECS } from '../refactor/normKinds';
import { analysis } from './analysis';
import { BuilderRuns } from './builderCommands';
import type { NormScopeContext } from './context';
import type { DocumentIndex } from './documentIndex';
import { toWorkspaceEdit } from './codeActions';
import type { PanelView } from '../host/panelView';
import type { RunManager } from './runs';
import { applyPythonSwap } from './pythonEditor';
import { PYTHON_SWAP_TARGETS, type PythonSwapTarget } from '../runner/pythonSwap';

async function saveFiles(uris: vscode.Uri[]): Promise<void> {
  for (const uri of uris) {
    // openTextDocument, not a search of textDocuments: the buffer the edit created may not have reached
    // this extension host yet (a busy machine), and it returns that buffer with its unsaved text.
    const doc = await vscode.workspace.openTextDocument(uri);
    // A save can be refused on a busy machine (its save participants run out of time): try again, then
    // write the text ourselves, so the model's require('./norm-layers') never points at an empty file.
    for (let attempt = 0; doc.isDirty && attempt < 3; attempt++) if (await doc.save()) break;
    if (doc.isDirty) await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(doc.getText()));
  }
}

async function applySwap(doc: vscode.TextDocument, line: number, to: NormKind, index: DocumentIndex): Promise<boolean> {
  const result = analysis().applyRefactor(doc.getText(), doc.fileName, { line }, { action: 'swap', to }, index.get(doc));
  const ok = await vscode.workspace.applyEdit(await toWorkspaceEdit(doc, result), { isRefactoring: true });
  if (ok) await saveFiles(result.extraFiles.map((f) => vscode.Uri.joinPath(doc.uri, '..', f.path)));
  return ok;
}

/** Swap the normalization at `line` of `file` to `to` (JS/TS refactor or the Python engine), then show the line. */
export async function applyNormAt(ctx: NormScopeContext, index: DocumentIndex, file: string, line: number, to: NormKind): Promise<boolean> {
  const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(file));
  const ok = doc.languageId === 'python' ? await applyPythonSwap(ctx, doc, line, to) : await applySwap(doc, line, to, index);
  if (ok) await vscode.window.showTextDocument(doc, { selection: new vscode.Range(line - 1, 0, line - 1, 0) });
  return ok;
}

/** `normscope.swapNorm`: the other norms for the call at `line` of `file` (default: the cursor), or a comparison. */
async function swapNormCommand(ctx: NormScopeContext, index: DocumentIndex, file?: string, line?: number): Promise<unknown> {
  const editor = vscode.window.activeTextEditor;
  const doc = file ? await vscode.workspace.openTextDocument(vscode.Uri.file(file)) : editor?.document;
  if (!doc) return false;
  const at = line ?? (editor ? editor.selection.active.line + 1 : 1);
  if (doc.languageId === 'python') {
    const to = await vscode.window.showQuickPick([...PYTHON_SWAP_TARGETS], {
      title: 'NormScope: swap normalization (PyTorch)',
      placeHolder: 'Replace this normalization layer with…',
    });
    return to ? applyPythonSwap(ctx, doc, at, to as PythonSwapTarget) : false;
  }
  const swaps = analysis()
    .availableRefactors(doc.getText(), doc.fileName, { line: at }, index.get(doc))
    .filter((o) => o.action.action === 'swap');
  if (swaps.length === 0) {
    void vscode.window.showInformationMessage(
      `NormScope: ${vscode.workspace.asRelativePath(doc.uri)}:${at} has no normalization call to swap.`,
    );
    return false;
  }
  const pick = await vscode.window.showQuickPick(
    [
      ...swaps.map((o) => ({
        label: o.title,
        to: (o.action as { to: NormKind }).to,
        description: NORM_SPECS[(o.action as { to: NormKind }).to].className,
      })),
      { label: '$(beaker) Compare normalizations…', to: undefined, description: 'train each candidate briefly and compare' },
      {
        label: '$(graph) Compare normalizations over learning rates…',
        to: undefined,
        sweep: true,
        description: "each candidate at 4 rates over 30× around the model's own",
      },
    ],
    { title: 'NormScope: swap normalization', placeHolder: 'Replace this normalization layer with…' },
  );
  if (!pick) return false;
  if (!pick.to)
    return vscode.commands.executeCommand('normscope.compareNorms', doc.uri.fsPath, at, undefined, 'sweep' in pick ? 'auto' : undefined);
  return applySwap(doc, at, pick.to, index);
}

export function registerRefactorCommands(ctx: NormScopeContext, index: DocumentIndex, runs: RunManager, panel: PanelView): void {
  ctx.own(vscode.commands.registerCommand('normscope.saveFiles', (...uris: vscode.Uri[]) => saveFiles(uris)));

  ctx.own(vscode.commands.registerCommand('normscope.swapNorm', (file?: string, line?: number) => swapNormCommand(ctx, index, file, line)));

  const builders = new BuilderRuns(ctx, index);
  // `learningRates` (optional) overrides the normscope.compareLearningRates setting for this comparison.
  ctx.own(
    vscode.commands.registerCommand(
      'normscope.compareNorms',
      async (file?: string, line?: number, candidates?: NormKind[], learningRates?: number[] | 'auto') => {
        const editor = vscode.window.activeTextEditor;
        const target = file ?? editor?.document.uri.fsPath;
        const at = line ?? (editor ? editor.selection.active.line + 1 : undefined);
        if (!target || !at) return undefined;
        const choice = vscode.workspace.isTrusted ? await builders.choiceForLine(vscode.Uri.file(target), at) : {};
        if (!choice) return undefined;
        const result = await runs.compare(
          target,
          at,
          candidates ?? ['batchNorm', 'layerNorm', 'groupNorm', 'rmsNorm'],
          choice,
          learningRates,
        );
        if (!result) return undefined;
        panel.show(target, true);
        panel.publish({ type: 'compare', result });
        return result;
      },
    ),
  );

  // What the panel's Apply button does, as a command (the extension-host tests use it).
  ctx.own(
    vscode.commands.registerCommand('normscope.applyCompareCandidate', (norm: unknown) => isNormKind(norm) && panel.applyCandidate(norm)),
  );
}
