/** PyTorch files in the real VS Code: a check through the Python engine, live numbers in the hover, findings on the line. */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { RunReport } from '../../../src/protocol/run';
import type { CompareResult } from '../../../src/protocol/webview';
import { activateNormScope, hoverText, openFixture, positionOf, waitForFinding } from './helpers';

suite('pytorch', () => {
  test('checkFile on a .py model: hover with live numbers on an nn.Linear( line, dead finding on the ReLU line', async () => {
    const api = await activateNormScope();
    const editor = await openFixture('torch_mlp.py');
    assert.equal(editor.document.languageId, 'python');
    const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', editor.document.uri);
    assert.ok(
      lenses.some((l) => /Check normalization .*PyTorch/.test(l.command?.title ?? '')),
      'no PyTorch CodeLens',
    );
    const report = await vscode.commands.executeCommand<RunReport | undefined>('normscope.checkFile', editor.document.uri);
    assert.ok(report, `the run produced no report: ${api.results.get(editor.document.uri.fsPath)?.error?.message}`);
    const hiddenLine = positionOf(editor.document, 'self.hidden = nn.Linear(').line;
    assert.equal(report.layers.find((l) => l.name === 'hidden')?.source?.line, hiddenLine + 1);
    const pos = positionOf(editor.document, 'nn.Linear(32, 32)', 4);
    const text = hoverText(await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', editor.document.uri, pos));
    assert.match(text, /hidden/);
    assert.match(text, /Linear/);
    assert.match(text, /\| mean \| -?\d/, `no live numbers in the hover:\n${text}`);
    const actLine = positionOf(editor.document, 'self.act = nn.ReLU()').line;
    const diag = await waitForFinding(editor.document.uri, 'dead');
    assert.equal(diag.range.start.line, actLine);
  });

  test('static findings on a .py file from the ast-based lint, without a run', async () => {
    await activateNormScope();
    const editor = await openFixture('torch_small_batch.py');
    const bnLine = positionOf(editor.document, 'nn.BatchNorm2d(16)').line;
    const diag = await waitForFinding(editor.document.uri, 'bn-small-batch');
    assert.equal(diag.range.start.line, bnLine);
    assert.equal(diag.severity, vscode.DiagnosticSeverity.Error);
  });

  test('compare on a PyTorch BatchNorm line, then apply the winner as a swap', async () => {
    await activateNormScope();
    const editor = await openFixture('torch_small_batch.py');
    const line = positionOf(editor.document, 'nn.BatchNorm2d(16)').line + 1;
    const result = await vscode.commands.executeCommand<CompareResult | undefined>(
      'normscope.compareNorms',
      editor.document.uri.fsPath,
      line,
      ['groupNorm'],
    );
    assert.ok(result, 'compare produced no result');
    assert.deepEqual(result.candidates.map((c) => c.norm).sort(), ['batchNorm', 'groupNorm']);
    for (const c of result.candidates) assert.equal(c.error, undefined, `${c.norm}: ${c.error}`);
    assert.ok(result.candidates.find((c) => c.norm === 'batchNorm')?.original);
    try {
      assert.equal(await vscode.commands.executeCommand('normscope.applyCompareCandidate', 'groupNorm'), true);
      assert.match(editor.document.lineAt(line - 1).text, /nn\.GroupNorm\(16, 16\)/);
    } finally {
      await vscode.window.showTextDocument(editor.document);
      await vscode.commands.executeCommand('workbench.action.files.revert');
    }
  });
});
