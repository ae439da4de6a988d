/**
 * The "Get started with NormScope" walkthrough's own command: open the example it is built around
 * (examples/small-batch-bn.js: a static finding, a run, a swap to GroupNorm) with the cursor on its BatchNorm.
 * From the checkout (`npm start` opens examples/) the workspace copy is used; an installed extension copies the
 * example it ships into its global storage, so the swap's edits never touch the extension folder.
 */
import * as vscode from 'vscode';
import type { NormScopeContext } from './context';

export const WALKTHROUGH_EXAMPLE = 'small-batch-bn.js';

async function exists(uri: vscode.Uri): Promise<boolean> {
  return vscode.workspace.fs.stat(uri).then(
    () => true,
    () => false,
  );
}

async function exampleUri(ctx: NormScopeContext): Promise<vscode.Uri> {
  for (const folder of vscode.workspace.workspaceFolders ?? []) {
    for (const candidate of [
      vscode.Uri.joinPath(folder.uri, WALKTHROUGH_EXAMPLE),
      vscode.Uri.joinPath(folder.uri, 'examples', WALKTHROUGH_EXAMPLE),
    ]) {
      if (await exists(candidate)) return candidate;
    }
  }
  const copy = vscode.Uri.joinPath(ctx.extension.globalStorageUri, 'examples', WALKTHROUGH_EXAMPLE);
  if (!(await exists(copy))) {
    await vscode.workspace.fs.createDirectory(vscode.Uri.joinPath(copy, '..'));
    await vscode.workspace.fs.copy(vscode.Uri.joinPath(ctx.extensionUri, 'examples', WALKTHROUGH_EXAMPLE), copy);
  }
  return copy;
}

export function registerWalkthroughCommands(ctx: NormScopeContext): void {
  ctx.own(
    vscode.commands.registerCommand('normscope.openExample', async () => {
      const uri = await exampleUri(ctx);
      const doc = await vscode.workspace.openTextDocument(uri);
      const at = doc.getText().indexOf('batchNormalization');
      const pos = doc.positionAt(Math.max(0, at));
      const editor = await vscode.window.showTextDocument(doc, { selection: new vscode.Range(pos, pos) });
      ctx.log.info(`walkthrough: opened ${uri.fsPath}`);
      return editor.document.uri;
    }),
  );
}
