/** Training scripts from the editor: "Check Training Script" runs the user's own script on its own data. */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { RunReport } from '../../../src/protocol/run';
import { activateNormScope, hoverText, openFixture, positionOf, scriptLenses, waitForFinding, workspaceFile } from './helpers';

suite('training scripts', () => {
  test("a CodeLens sits on the script's fit call", async () => {
    await activateNormScope();
    const editor = await openFixture('script/train.ts');
    const fitLine = positionOf(editor.document, 'model.fitDataset(').line;
    const lenses = await scriptLenses(editor.document.uri);
    assert.deepEqual(
      lenses.map((l) => l.range.start.line),
      [fitLine],
    );
    assert.match(lenses[0].command!.title, /Check training script .*model\.fitDataset/);
  });

  test('Check Training Script: real data, and findings on the lines of the model file the script imports', async () => {
    const api = await activateNormScope();
    const models = await openFixture('script/models.ts');
    const script = workspaceFile('script/train.ts');
    const report = await vscode.commands.executeCommand<RunReport | undefined>('normscope.checkScript', script, ['2']);
    assert.ok(report, `the run produced no report: ${api.results.get(script.fsPath)?.error?.message ?? ''}`);
    assert.equal(report.syntheticData, false);
    assert.equal(report.steps, 2 * 8, "the script's own argv (2 epochs of 8 batches) decided the length");
    const collapsedLine = positionOf(models.document, "name: 'collapsed'").line;
    const layer = report.layers.find((l) => l.name === 'collapsed');
    assert.equal(layer?.source?.file, models.document.uri.fsPath);
    assert.equal(layer?.source?.line, collapsedLine + 1);
    const diag = await waitForFinding(models.document.uri, 'dead');
    assert.equal(diag.range.start.line, collapsedLine);
    assert.equal(api.results.get(script.fsPath)?.status, 'done');
    // The hover on the model file's layer line shows the script run's numbers.
    const pos = new vscode.Position(collapsedLine, models.document.lineAt(collapsedLine).text.indexOf('dense') + 2);
    const text = hoverText(await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', models.document.uri, pos));
    assert.match(text, /collapsed/);
    assert.match(text, /\| dead \| 1 \|/);
  });
});
