/** Helpers for the extension-host suites. */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { NormScopeApi } from '../../../src/extension';
import type { CompareResult } from '../../../src/protocol/webview';
import { waitFor } from '../poll';

export async function activateNormScope(): Promise<NormScopeApi> {
  const ext = vscode.extensions.getExtension<NormScopeApi>('normscope.normscope');
  assert.ok(ext, 'NormScope extension is not installed in this VS Code');
  return ext.activate();
}

export function workspaceFile(name: string): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'the e2e workspace folder is not open');
  return vscode.Uri.joinPath(folder.uri, name);
}

export async function openFixture(name: string): Promise<vscode.TextEditor> {
  const doc = await vscode.workspace.openTextDocument(workspaceFile(name));
  return vscode.window.showTextDocument(doc);
}

/**
 * The code actions of every provider at `range` (as the light bulb asks for them). VS Code fails the whole
 * request with "Canceled" when any provider's request is cancelled — the built-in TypeScript extension
 * cancels its own when tsserver is busy — so a cancelled request is asked again, as the light bulb does.
 */
export async function codeActionsAt(
  uri: vscode.Uri,
  range: vscode.Range,
  kind: vscode.CodeActionKind,
  resolve = 10,
): Promise<vscode.CodeAction[]> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      return await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', uri, range, kind.value, resolve);
    } catch (e) {
      if (!(e instanceof Error && e.name === 'Canceled') || Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 300));
    }
  }
}

export { waitFor };

/** 0-based position of the first occurrence of `text` in the document (fails if absent). */
export function positionOf(doc: vscode.TextDocument, text: string, offsetInText = 0): vscode.Position {
  const i = doc.getText().indexOf(text);
  assert.ok(i >= 0, `'${text}' not found in ${doc.fileName}`);
  return doc.positionAt(i + offsetInText);
}

export function hoverText(hovers: vscode.Hover[]): string {
  return hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : 'value' in c ? c.value : ''))).join('\n');
}

/** The finding kind a diagnostic carries in its `code` (a plain value, or `{ value, target }` with a docs link). */
export function findingKind(d: vscode.Diagnostic): string | number | undefined {
  return typeof d.code === 'object' ? d.code.value : d.code;
}

/** Waits for NormScope's diagnostic of finding `kind` on `uri` and returns it. */
export function waitForFinding(uri: vscode.Uri, kind: string, timeoutMs?: number): Promise<vscode.Diagnostic> {
  return waitFor(
    `a ${kind} diagnostic on ${uri.path}`,
    () => vscode.languages.getDiagnostics(uri).find((d) => d.source === 'NormScope' && findingKind(d) === kind),
    timeoutMs,
  );
}

/** The "Check training script" lenses of `uri`, once its provider has answered. */
export function scriptLenses(uri: vscode.Uri): Promise<vscode.CodeLens[]> {
  return waitFor(`the training-script lens of ${uri.path}`, async () => {
    const all = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri);
    const found = all.filter((l) => l.command?.command === 'normscope.checkScript');
    return found.length ? found : undefined;
  });
}

/**
 * Runs `body`, then puts the workspace files `names` back as they were on disk before it — a changed one rewritten,
 * one it created deleted, an editor it left dirty reverted — and waits until each open document shows the file again.
 * Whatever `body` did or where it failed, a test that edits a fixture leaves it as the next test expects it.
 */
export async function restoringFiles<T>(names: string[], body: () => Promise<T>): Promise<T> {
  const before = await Promise.all(
    names.map(async (name) => {
      const uri = workspaceFile(name);
      const bytes = await Promise.resolve(vscode.workspace.fs.readFile(uri)).catch(() => null);
      return { uri, bytes };
    }),
  );
  try {
    return await body();
  } finally {
    for (const { uri, bytes } of before) {
      const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
      if (doc?.isDirty) {
        await vscode.window.showTextDocument(doc);
        await vscode.commands.executeCommand('workbench.action.files.revert');
      }
      if (bytes) await vscode.workspace.fs.writeFile(uri, bytes);
      else await Promise.resolve(vscode.workspace.fs.delete(uri)).catch(() => undefined);
      const text = bytes && new TextDecoder().decode(bytes);
      if (doc && text !== null) await waitFor(`${uri.path} back as it was`, () => !doc.isDirty && doc.getText() === text, 10_000);
    }
  }
}

/** Runs "Compare normalizations" at the line of `editor` that holds `text`, as the editor's command does. */
export async function compareAt(
  editor: vscode.TextEditor,
  text: string,
  candidates: string[],
  learningRates?: number[],
): Promise<CompareResult | undefined> {
  const line = positionOf(editor.document, text).line + 1;
  const args = [editor.document.uri.fsPath, line, candidates, ...(learningRates ? [learningRates] : [])];
  return vscode.commands.executeCommand<CompareResult | undefined>('normscope.compareNorms', ...args);
}
