/** Training runs from the editor: results, findings on the right line, cancel, bad models. */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { RunReport } from '../../../src/protocol/run';
import { activateNormScope, hoverText, openFixture, positionOf, restoringFiles, waitFor, waitForFinding, workspaceFile } from './helpers';

suite('training runs', () => {
  test('checkFile trains the model and ties every layer to its source line', async () => {
    const api = await activateNormScope();
    const editor = await openFixture('dead.js');
    const report = await vscode.commands.executeCommand<RunReport | undefined>('normscope.checkFile', editor.document.uri);
    assert.ok(report, 'the run produced no report');
    const deadLine = positionOf(editor.document, "name: 'dead_relu'").line + 1;
    const dead = report.layers.find((l) => l.name === 'dead_relu');
    assert.ok(dead, 'layer dead_relu missing from the report');
    assert.equal(dead.source?.line, deadLine);
    const run = api.results.get(editor.document.uri.fsPath);
    assert.equal(run?.status, 'done');
    assert.ok((run?.samples.length ?? 0) > 0, 'no samples were streamed');
    // The panel opens beside the editor without taking the keyboard from it.
    assert.equal(
      vscode.window.activeTextEditor?.document.uri.toString(),
      editor.document.uri.toString(),
      'the panel took focus from the editor',
    );
  });

  test('a dead layer is flagged on the line that built it, and the hover shows its numbers', async () => {
    await activateNormScope();
    const editor = await openFixture('dead.js');
    const deadLine = positionOf(editor.document, "name: 'dead_relu'").line;
    assert.ok(
      await vscode.commands.executeCommand<RunReport | undefined>('normscope.checkFile', editor.document.uri),
      'the run produced no report',
    );
    const diag = await waitForFinding(editor.document.uri, 'dead');
    assert.equal(diag.range.start.line, deadLine);
    const pos = new vscode.Position(deadLine, editor.document.lineAt(deadLine).text.indexOf('dense') + 2);
    const text = hoverText(await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', editor.document.uri, pos));
    assert.match(text, /dead\\?_relu/);
    assert.match(text, /\| dead \| 1 \|/);
  });

  test('cancel stops a long run within 1 s', async () => {
    const api = await activateNormScope();
    const uri = workspaceFile('slow.js');
    const pending = vscode.commands.executeCommand('normscope.checkFile', uri);
    await waitFor('the slow run to stream progress', () => (api.results.get(uri.fsPath)?.samples.length ?? 0) > 0, 60_000);
    const t0 = Date.now();
    await vscode.commands.executeCommand('normscope.cancelRun');
    await pending;
    const elapsed = Date.now() - t0;
    assert.equal(api.results.get(uri.fsPath)?.status, 'cancelled');
    assert.ok(elapsed <= 1000, `cancel took ${elapsed} ms`);
  });

  test('cancel ends a model stuck in a busy loop within 1 s and keeps the steps measured so far', async () => {
    const api = await activateNormScope();
    const uri = workspaceFile('busy.js');
    const pending = vscode.commands.executeCommand<RunReport | undefined>('normscope.checkFile', uri);
    await waitFor('the busy run to stream progress', () => (api.results.get(uri.fsPath)?.samples.length ?? 0) > 0, 60_000);
    await new Promise((r) => setTimeout(r, 500)); // its data set spins from the sixth batch on
    const t0 = Date.now();
    await vscode.commands.executeCommand('normscope.cancelRun');
    const report = await pending;
    const elapsed = Date.now() - t0;
    assert.equal(api.results.get(uri.fsPath)?.status, 'cancelled');
    assert.equal(report?.stoppedEarly, 'cancelled');
    assert.ok((report?.loss.length ?? 0) > 0, 'the partial report lost the streamed steps');
    assert.ok(elapsed <= 1000, `cancel took ${elapsed} ms`);
  });

  test('a model that throws is reported with its line and the extension keeps working', async () => {
    const api = await activateNormScope();
    const uri = workspaceFile('throws.js');
    const report = await vscode.commands.executeCommand('normscope.checkFile', uri);
    assert.equal(report, undefined);
    const run = api.results.get(uri.fsPath);
    assert.equal(run?.status, 'failed');
    assert.match(run?.error?.message ?? '', /shape|boom/i);
    assert.equal(run?.error?.line, 6);
    const again = await vscode.commands.executeCommand<RunReport | undefined>('normscope.checkFile', workspaceFile('mlp.js'));
    assert.ok(again && again.layers.length >= 5, 'the next run after a failure did not work');
  });

  test('a model in "dir ü 模型/thröw ☃.js" gets its findings on that file and line', async () => {
    await activateNormScope();
    // Created here, in the fresh workspace copy: such names are awkward in git and archive tools.
    const uri = workspaceFile('dir ü 模型/thröw ☃.js');
    await restoringFiles(['dir ü 模型/thröw ☃.js'], async () => {
      const dead = await vscode.workspace.fs.readFile(workspaceFile('dead.js'));
      await vscode.workspace.fs.writeFile(uri, dead);
      const editor = await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri));
      const deadLine = positionOf(editor.document, "name: 'dead_relu'").line;
      const report = await vscode.commands.executeCommand<RunReport | undefined>('normscope.checkFile', uri);
      assert.equal(report?.layers.find((l) => l.name === 'dead_relu')?.source?.file, uri.fsPath);
      const diag = await waitForFinding(uri, 'dead');
      assert.equal(diag.range.start.line, deadLine);
    });
  });

  test('settings take effect on the next run without a reload', async () => {
    await activateNormScope();
    const config = vscode.workspace.getConfiguration('normscope');
    await config.update('steps', 7, vscode.ConfigurationTarget.Workspace);
    try {
      const report = await vscode.commands.executeCommand<RunReport | undefined>('normscope.checkFile', workspaceFile('dead.js'));
      assert.equal(report?.steps, 7);
      assert.equal(report?.loss.length, 7);
    } finally {
      await config.update('steps', undefined, vscode.ConfigurationTarget.Workspace);
    }
  });
});
