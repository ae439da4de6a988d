/** The "Get started" walkthrough: its steps' media ship, their commands exist, and its example opens ready to use. */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { activateNormScope, findingKind, waitFor } from './helpers';

interface WalkthroughStep {
  id: string;
  description: string;
  media: { markdown?: string };
  completionEvents?: string[];
}

suite('walkthrough', () => {
  test('every step has its markdown in the extension and links to registered commands', async () => {
    await activateNormScope();
    const ext = vscode.extensions.getExtension('normscope.normscope')!;
    const steps = ext.packageJSON.contributes.walkthroughs[0].steps as WalkthroughStep[];
    assert.deepEqual(
      steps.map((s) => s.id),
      ['openExample', 'runCheck', 'readFinding', 'trySwap'],
    );
    const commands = new Set(await vscode.commands.getCommands(false));
    for (const step of steps) {
      await vscode.workspace.fs.stat(vscode.Uri.joinPath(ext.extensionUri, step.media.markdown!));
      const linked = [...step.description.matchAll(/\(command:([\w.]+)(?:\?[^)]*)?\)/g)].map((m) => m[1]);
      assert.ok(linked.length > 0, `step ${step.id} has no command link`);
      for (const id of [
        ...linked,
        ...(step.completionEvents ?? []).map((e) => e.replace(/^onCommand:/, '')).filter((e) => !e.startsWith('onView:')),
      ]) {
        assert.ok(commands.has(id), `step ${step.id} uses ${id}, which is not registered`);
      }
    }
  });

  test('Open the example: small-batch-bn.js opens with the cursor on its BatchNorm, which has a static finding', async () => {
    await activateNormScope();
    const uri = await vscode.commands.executeCommand<vscode.Uri>('normscope.openExample');
    const editor = vscode.window.activeTextEditor;
    assert.ok(editor && editor.document.uri.toString() === uri.toString(), 'the example is not the active editor');
    assert.match(editor.document.fileName, /small-batch-bn\.js$/);
    const line = editor.selection.active.line;
    assert.match(editor.document.lineAt(line).text, /batchNormalization/);
    const diags = await waitFor('the bn-small-batch finding', () => {
      const here = vscode.languages.getDiagnostics(uri).filter((d) => d.source === 'NormScope' && d.range.start.line === line);
      return here.length ? here : undefined;
    });
    assert.ok(diags.some((d) => findingKind(d) === 'bn-small-batch'));
    // Its spec says `steps: 20`: the CodeLens shows the steps the run will use, not the steps setting.
    const lenses = await waitFor('the Check CodeLens', async () => {
      const all = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri);
      return all.find((l) => /Check normalization/.test(l.command?.title ?? ''));
    });
    assert.match(lenses.command!.title, /\(20 steps\)/);
  });

  test('Open the PyTorch example: small_batch_bn.py opens on the BatchNorm1d its helper builds, which has a static finding', async () => {
    await activateNormScope();
    const steps = vscode.extensions.getExtension('normscope.normscope')!.packageJSON.contributes.walkthroughs[0].steps as WalkthroughStep[];
    const link = /\(command:normscope\.openExample\?([^)]*)\)/.exec(steps[0].description);
    assert.ok(link, 'the first step links no PyTorch example');
    const args = JSON.parse(decodeURIComponent(link[1])) as unknown[];
    const uri = await vscode.commands.executeCommand<vscode.Uri>('normscope.openExample', ...args);
    const editor = vscode.window.activeTextEditor;
    assert.ok(editor && editor.document.uri.toString() === uri.toString(), 'the example is not the active editor');
    assert.match(editor.document.fileName, /small_batch_bn\.py$/);
    const line = editor.selection.active.line;
    assert.match(editor.document.lineAt(line).text, /nn\.BatchNorm1d\(/);
    const diags = await waitFor('the bn-small-batch finding', () => {
      const here = vscode.languages.getDiagnostics(uri).filter((d) => d.source === 'NormScope' && d.range.start.line === line);
      return here.some((d) => findingKind(d) === 'bn-small-batch') ? here : undefined;
    });
    assert.ok(diags.length > 0);
  });
});
