// The loss-landscape instrument in the extension (issue 13): the setting turns it on for the next run, hovers on
// a norm layer then show its internal covariate shift, and Compare takes a learning-rate sweep.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { RunReport } from '../../../src/protocol/run';
import { activateNormScope, compareAt, hoverText, openFixture, positionOf } from './helpers';

suite('loss landscape', () => {
  test("normscope.landscape on: the report has the landscape and a norm layer's hover shows its ICS", async () => {
    await activateNormScope();
    const config = vscode.workspace.getConfiguration('normscope');
    await config.update('landscape', true, vscode.ConfigurationTarget.Workspace);
    await config.update('landscapeEvery', 5, vscode.ConfigurationTarget.Workspace);
    try {
      const editor = await openFixture('mlp.js');
      const report = await vscode.commands.executeCommand<RunReport | undefined>('normscope.checkFile', editor.document.uri);
      assert.deepEqual(
        report?.landscape?.samples.map((s) => s.step),
        [0, 5, 10, 15],
      );
      const pos = positionOf(editor.document, 'batchNormalization', 3);
      const text = hoverText(await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', editor.document.uri, pos));
      assert.match(text, /Internal covariate shift at step 15: ‖G − G′‖ [\d.e+-]+, cos\(G, G′\)/);
    } finally {
      await config.update('landscape', undefined, vscode.ConfigurationTarget.Workspace);
      await config.update('landscapeEvery', undefined, vscode.ConfigurationTarget.Workspace);
    }
  });

  test('compare with learning rates: a loss per candidate × rate and a verdict', async () => {
    await activateNormScope();
    const editor = await openFixture('mlp.js');
    const result = await compareAt(editor, 'layerNormalization', ['rmsNorm'], [1e-3, 1e-2]);
    const sweep = result?.sweep;
    assert.ok(sweep, 'no sweep in the comparison');
    assert.deepEqual(sweep.learningRates, [1e-3, 1e-2]);
    assert.deepEqual(sweep.cells.map((c) => `${c.variant}@${c.learningRate}`).sort(), [
      'layerNorm@0.001',
      'layerNorm@0.01',
      'rmsNorm@0.001',
      'rmsNorm@0.01',
    ]);
    assert.match(sweep.message, /tolerates the widest range|No variant reached a good loss/);
  });
});
