/** PyTorch files in the real VS Code: a check through the Python engine, live numbers in the hover, findings on the line. */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { RunReport } from '../../../src/protocol/run';
import {
  activateNormScope,
  compareAt,
  hoverText,
  openFixture,
  positionOf,
  restoringFiles,
  scriptLenses,
  waitFor,
  waitForFinding,
  workspaceFile,
} from './helpers';

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
    // Also on the line of the Linear that feeds the dead ReLU, naming both, each linked to the other.
    const fed = vscode.languages
      .getDiagnostics(editor.document.uri)
      .find((d) => d.source === 'NormScope' && d.range.start.line === hiddenLine && /feeds act/.test(d.message));
    assert.ok(fed, 'no dead diagnostic on the feeding nn.Linear line');
    assert.match(fed.message, /^hidden \(Linear\) feeds act, where 100% of the units are dead/);
    assert.deepEqual(
      fed.relatedInformation?.map((r) => r.location.range.start.line),
      [actLine],
    );
    assert.deepEqual(
      diag.relatedInformation?.map((r) => [r.location.range.start.line, r.message.slice(0, 18)]),
      [[hiddenLine, 'hidden (Linear) fe']],
    );
  });

  test("Check Training Script on a .py script: lens on optimizer.step(), run in the script's folder, findings in the module it imports", async () => {
    const api = await activateNormScope();
    const script = await openFixture('torch_script/train.py');
    const stepLine = positionOf(script.document, 'optimizer.step()').line;
    const lenses = await scriptLenses(script.document.uri);
    assert.deepEqual(
      lenses.map((l) => [l.range.start.line, l.range.start.character]),
      [[stepLine, script.document.lineAt(stepLine).text.indexOf('optimizer')]],
    );
    assert.match(lenses[0].command!.title, /Check training script .*optimizer\.step/);

    const nets = await openFixture('torch_script/nets.py');
    const uri = workspaceFile('torch_script/train.py');
    // The script reads config.json by a relative path: it only runs in its own folder.
    const report = await vscode.commands.executeCommand<RunReport | undefined>('normscope.checkScript', uri, ['--epochs', '2']);
    assert.ok(report, `the run produced no report: ${api.results.get(uri.fsPath)?.error?.message ?? ''}`);
    assert.equal(report.syntheticData, false);
    assert.equal(report.batchSize, 16);
    assert.equal(report.steps, 2 * 8 - 1, "the script's argv (2 epochs of 8 batches) decided the length; its first step is not measured");
    const hiddenLine = positionOf(nets.document, 'self.hidden = nn.Linear(').line;
    const hidden = report.layers.find((l) => l.name === 'hidden');
    assert.equal(hidden?.source?.file, nets.document.uri.fsPath);
    assert.equal(hidden?.source?.line, hiddenLine + 1);
    const actLine = positionOf(nets.document, 'self.act = nn.ReLU()').line;
    const diag = await waitForFinding(nets.document.uri, 'dead');
    assert.equal(diag.range.start.line, actLine);
    assert.match(diag.message, /nn\.LayerNorm|nn\.LeakyReLU/, 'the fix speaks PyTorch');
    const pos = positionOf(nets.document, 'nn.Linear(hidden, hidden)', 4);
    const text = hoverText(await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', nets.document.uri, pos));
    assert.match(text, /hidden/);
    assert.match(text, /\| mean \| -?\d/, `no live numbers in the hover:\n${text}`);
  });

  test('a script whose loop is in an imported helper (torchvision reference style): lens on train_one_epoch(...), none on engine.py', async () => {
    const api = await activateNormScope();
    // The reference trio from the unit fixtures, copied into the workspace so the run writes nothing in the repo.
    const source = vscode.Uri.joinPath(
      vscode.extensions.getExtension('normscope.normscope')!.extensionUri,
      'test/fixtures/pytorch/reference',
    );
    await vscode.workspace.fs.copy(source, workspaceFile('torch_reference'), { overwrite: true });
    const script = await openFixture('torch_reference/train.py');
    const call = positionOf(script.document, 'train_one_epoch(model');
    const lenses = await scriptLenses(script.document.uri);
    assert.deepEqual(
      lenses.map((l) => [l.range.start.line, l.range.start.character]),
      [[call.line, call.character]],
    );
    assert.match(lenses[0].command!.title, /Check training script .*train_one_epoch\(\)/);
    assert.match(lenses[0].command!.tooltip ?? '', /engine\.py/);
    const engine = await openFixture('torch_reference/engine.py');
    const engineLenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', engine.document.uri);
    assert.deepEqual(
      engineLenses.filter((l) => l.command?.command === 'normscope.checkScript'),
      [],
      'engine.py only defines the loop',
    );

    const models = await openFixture('torch_reference/models.py');
    const report = await vscode.commands.executeCommand<RunReport | undefined>('normscope.checkScript', script.document.uri, [
      '--epochs',
      '2',
    ]);
    assert.ok(report, `the run produced no report: ${api.results.get(script.document.uri.fsPath)?.error?.message ?? ''}`);
    assert.ok(report.layers.length > 0 && report.layers.every((l) => l.source?.file === models.document.uri.fsPath));
    const diag = await waitForFinding(models.document.uri, 'dead');
    assert.equal(diag.range.start.line, positionOf(models.document, 'self.relu = nn.ReLU(').line);
  });

  test("saving the helper without its training calls removes the script's lens; restoring it brings it back", async () => {
    await activateNormScope();
    const source = vscode.Uri.joinPath(
      vscode.extensions.getExtension('normscope.normscope')!.extensionUri,
      'test/fixtures/pytorch/reference',
    );
    await vscode.workspace.fs.copy(source, workspaceFile('torch_reference_deps'), { overwrite: true });
    const script = await openFixture('torch_reference_deps/train.py');
    assert.equal((await scriptLenses(script.document.uri)).length, 1);
    // Whatever fails below, engine.py is put back (the test saves edits to it).
    await restoringFiles(['torch_reference_deps/engine.py'], async () => {
      const engine = await openFixture('torch_reference_deps/engine.py');
      const original = engine.document.getText();
      const setEngine = async (text: string) => {
        const edit = new vscode.WorkspaceEdit();
        edit.replace(engine.document.uri, new vscode.Range(0, 0, engine.document.lineCount, 0), text);
        assert.ok(await vscode.workspace.applyEdit(edit));
        assert.ok(await engine.document.save());
      };
      const scriptVersion = script.document.version;
      // No backward() and no optimizer step left: train_one_epoch() trains nothing.
      await setEngine(original.replaceAll('.backward()', '.detach()').replace('optimizer.step()', 'optimizer.zero_grad()'));
      await waitFor('no training-script lens on train.py', async () => {
        const all = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', script.document.uri);
        return all.every((l) => l.command?.command !== 'normscope.checkScript');
      });
      await setEngine(original);
      const call = positionOf(script.document, 'train_one_epoch(model');
      assert.deepEqual(
        (await scriptLenses(script.document.uri)).map((l) => [l.range.start.line, l.range.start.character]),
        [[call.line, call.character]],
      );
      assert.equal(script.document.version, scriptVersion, 'the script itself was not touched');
    });
  });

  test('a .py file with several models: a lens on each class; one checked with Python arguments, remembered in a model: lens', async () => {
    const api = await activateNormScope();
    const source = vscode.Uri.joinPath(
      vscode.extensions.getExtension('normscope.normscope')!.extensionUri,
      'test/fixtures/pytorch/public/pytorch-examples/word_language_model',
    );
    await vscode.workspace.fs.copy(source, workspaceFile('torch_word_lm'), { overwrite: true });
    const editor = await openFixture('torch_word_lm/model.py');
    const uri = editor.document.uri;
    const classLine = (name: string) => positionOf(editor.document, `class ${name}(`).line;
    const modelLenses = async () =>
      (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri)).filter((l) =>
        /^normscope\.(checkFunction|changeArguments)$/.test(l.command?.command ?? ''),
      );
    assert.deepEqual(
      (await modelLenses()).map((l) => [l.range.start.line, l.command!.arguments![1]]),
      [
        [classLine('RNNModel'), 'RNNModel'],
        [classLine('TransformerModel'), 'TransformerModel'],
      ],
    );
    const report = await vscode.commands.executeCommand<RunReport | undefined>(
      'normscope.checkFunction',
      uri,
      'TransformerModel',
      '100, 32, nhead=2, nhid=64, nlayers=2',
    );
    assert.ok(report, `the run produced no report: ${api.results.get(uri.fsPath)?.error?.message ?? ''}`);
    assert.equal(
      report.layers.find((l) => l.name === 'input_emb')?.source?.line,
      positionOf(editor.document, 'self.input_emb = nn.Embedding(').line + 1,
    );
    const remembered = await waitFor('the model: lens', async () =>
      (await modelLenses()).find((l) => l.command?.command === 'normscope.changeArguments'),
    );
    assert.equal(remembered.command!.title, 'model: TransformerModel(100, 32, nhead=2, nhid=64, nlayers=2)');
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
    const result = await compareAt(editor, 'nn.BatchNorm2d(16)', ['groupNorm']);
    assert.ok(result, 'compare produced no result');
    assert.deepEqual(result.candidates.map((c) => c.norm).sort(), ['batchNorm', 'groupNorm']);
    for (const c of result.candidates) assert.equal(c.error, undefined, `${c.norm}: ${c.error}`);
    assert.ok(result.candidates.find((c) => c.norm === 'batchNorm')?.original);
    await restoringFiles(['torch_small_batch.py'], async () => {
      assert.equal(await vscode.commands.executeCommand('normscope.applyCompareCandidate', 'groupNorm'), true);
      assert.match(editor.document.lineAt(line - 1).text, /nn\.GroupNorm\(16, 16\)/);
    });
  });
});
