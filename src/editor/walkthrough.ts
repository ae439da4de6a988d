/**
 * The "Get started with NormScope" walkthrough's own command: open one of the examples it is built around with the
 * cursor on its BatchNorm — examples/small-batch-bn.js (tfjs: a static finding, a run, a swap to GroupNorm), or with
 * the argument `pytorch` examples/small_batch_bn.py (the same story in PyTorch, the BatchNorm built in a helper).
 * From the checkout (`npm start` opens examples/) the workspace copy is used; an installed extension copies the
 * example it ships into its global storage, so the swap's edits never touch the extension folder.
 */
import * as vscode from 'vscode';
import type { NormScopeContext } from './context';

export const WALKTHROUGH_EXAMPLES = {
  tfjs: { file: 'small-batch-bn.js', norm: 'batchNormalization' },
  pytorch: { file: 'small_batch_bn.py', norm: 'nn.BatchNorm1d' },
} as const;

async function exists(uri: vscode.Uri): Promise<boolean> {
  return vscode.workspace.fs.stat(uri).then(
    () => true,
    () => false,
  );
}

async function exampleUri(ctx: NormScopeContext, file: string): Promise<vscode.Uri> {
  for (const folder of vscode.workspace.workspaceFolders ?? []) {
    for (const candidate of [vscode.Uri.joinPath(folder.uri, file), vscode.Uri.joinPath(folder.uri, 'examples', file)]) {
      if (await exists(candidate)) return candidate;
    }
  }
  const copy = vscode.Uri.joinPath(ctx.extension.globalStorageUri, 'examples', file);
  if (!(await exists(copy))) {
    await vscode.workspace.fs.createDirectory(vscode.Uri.joinPath(copy, '..'));
    await vscode.workspace.fs.copy(vscode.Uri.joinPath(ctx.extensionUri, 'examples', file), copy);
  }
  return copy;
}

export function registerWalkthroughCommands(ctx: NormScopeContext): void {
  ctx.own(
    vscode.commands.registerCommand('normscope.openExample', async (which?: unknown) => {
      const example = which === 'pytorch' ? WALKTHROUGH_EXAMPLES.pytorch : WALKTHROUGH_EXAMPLES.tfjs;
      const uri = await exampleUri(ctx, example.file);
      const doc = await vscode.workspace.openTextDocument(uri);
      const at = doc.getText().indexOf(example.norm);
      const pos = doc.positionAt(Math.max(0, at));
      const editor = await vscode.window.showTextDocument(doc, { selection: new vscode.Range(pos, pos) });
      ctx.log.info(`walkthrough: opened ${uri.fsPath}`);
      return editor.document.uri;
    }),
  );
}
