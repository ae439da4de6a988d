/** The extension activates in a real extension host and its static features work without a run. */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { activateNormScope, findingKind, hoverText, openFixture, positionOf, waitFor } from './helpers';

suite('activation and static features', () => {
  test('runs in a Node extension host and registers every command package.json contributes', async () => {
    await activateNormScope();
    const ext = vscode.extensions.getExtension('normscope.normscope')!;
    // Runs fork Node workers: the extension has a Node entry only, so VS Code never loads it in a web-worker host.
    assert.ok(ext.packageJSON.main && !ext.packageJSON.browser, 'package.json must declare main and no browser entry');
    assert.equal(typeof process.versions.node, 'string', 'not a Node extension host');
    const contributed = (ext.packageJSON.contributes.commands as { command: string }[]).map((c) => c.command);
    assert.ok(contributed.includes('normscope.checkFile'), 'package.json contributes no checkFile command');
    const commands = new Set(await vscode.commands.getCommands(true));
    for (const id of contributed) assert.ok(commands.has(id), `command ${id} is contributed but not registered`);
  });

  test('hover on a tf.layers call names the layer', async () => {
    await activateNormScope();
    const editor = await openFixture('mlp.js');
    const pos = positionOf(editor.document, 'batchNormalization', 3);
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', editor.document.uri, pos);
    const text = hoverText(hovers);
    assert.match(text, /BatchNormalization/);
    assert.match(text, /NormScope/);
  });

  test('no NormScope hover away from layer calls', async () => {
    await activateNormScope();
    const editor = await openFixture('mlp.js');
    const pos = positionOf(editor.document, 'function createModel', 2);
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', editor.document.uri, pos);
    assert.doesNotMatch(hoverText(hovers), /NormScope/);
  });

  test('static findings appear as diagnostics without a run', async () => {
    await activateNormScope();
    const editor = await openFixture('small-batch.js');
    const diags = await waitFor('bn-small-batch diagnostic', () => {
      const d = vscode.languages.getDiagnostics(editor.document.uri).filter((x) => x.source === 'NormScope');
      return d.length ? d : undefined;
    });
    const bn = diags.find((d) => findingKind(d) === 'bn-small-batch');
    assert.ok(bn, `no bn-small-batch diagnostic; got ${diags.map((d) => JSON.stringify(d.code)).join(', ')}`);
    const bnLine = positionOf(editor.document, 'batchNormalization').line;
    assert.equal(bn.range.start.line, bnLine);
    // Its code links to the finding's section of the docs page the extension ships, and that section exists.
    const target = typeof bn.code === 'object' ? bn.code.target : undefined;
    assert.ok(target, 'the bn-small-batch diagnostic has no docs link');
    assert.match(target.path, /\/docs\/findings\.md$/);
    assert.equal(target.fragment, 'finding-bn-small-batch');
    const page = new TextDecoder().decode(await vscode.workspace.fs.readFile(target.with({ fragment: '' })));
    assert.ok(page.includes(`id="${target.fragment}"`), `${target.path} has no anchor ${target.fragment}`);
  });

  test('showPanel opens the training-health webview', async () => {
    await activateNormScope();
    await vscode.commands.executeCommand('normscope.showPanel');
    await waitFor('a NormScope webview tab', () =>
      vscode.window.tabGroups.all
        .flatMap((g) => g.tabs)
        .find((t) => t.input instanceof vscode.TabInputWebview && /normscope/i.test(t.input.viewType)),
    );
  });
});
