/** The extension activates in a real extension host and its static features work without a run. */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { activateNormScope, hoverText, openFixture, positionOf, waitFor } from './helpers';

suite('activation and static features', () => {
  test('runs inside the Node extension host and registers its commands', async () => {
    await activateNormScope();
    assert.match(process.version, /^v\d+/);
    const commands = await vscode.commands.getCommands(true);
    for (const id of ['normscope.checkFile', 'normscope.showPanel', 'normscope.cancelRun', 'normscope.showLog']) {
      assert.ok(commands.includes(id), `command ${id} is not registered`);
    }
  });

  test('hover on a tf.layers call names the layer', async () => {
    const editor = await openFixture('mlp.js');
    const pos = positionOf(editor.document, 'batchNormalization', 3);
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', editor.document.uri, pos);
    const text = hoverText(hovers);
    assert.match(text, /BatchNormalization/);
    assert.match(text, /NormScope/);
  });

  test('no NormScope hover away from layer calls', async () => {
    const editor = await openFixture('mlp.js');
    const pos = positionOf(editor.document, 'function createModel', 2);
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', editor.document.uri, pos);
    assert.doesNotMatch(hoverText(hovers), /NormScope/);
  });

  test('static findings appear as diagnostics without a run', async () => {
    const editor = await openFixture('small-batch.js');
    const diags = await waitFor('bn-small-batch diagnostic', () => {
      const d = vscode.languages.getDiagnostics(editor.document.uri).filter((x) => x.source === 'NormScope');
      return d.length ? d : undefined;
    });
    const bn = diags.find((d) => (typeof d.code === 'object' ? d.code.value : d.code) === 'bn-small-batch');
    assert.ok(bn, `no bn-small-batch diagnostic; got ${diags.map((d) => JSON.stringify(d.code)).join(', ')}`);
    const bnLine = positionOf(editor.document, 'batchNormalization').line;
    assert.equal(bn.range.start.line, bnLine);
  });

  test('showPanel opens the training-health webview', async () => {
    await vscode.commands.executeCommand('normscope.showPanel');
    await waitFor('a NormScope webview tab', () =>
      vscode.window.tabGroups.all
        .flatMap((g) => g.tabs)
        .find((t) => t.input instanceof vscode.TabInputWebview && /normscope/i.test(t.input.viewType)),
    );
  });
});
