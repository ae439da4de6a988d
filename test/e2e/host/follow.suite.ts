/**
 * Following a user's own training run in the real VS Code: a PyTorch run (test/python/runlog_late_failure.py, whose
 * second ReLU dies at step 801) writes its log into the workspace's .normscope/runs while it trains, with its project
 * root on "another machine" (a temporary folder); Follow feeds the panel as it grows and puts the finding on the line
 * of the workspace's copy of the model, then sees the end record.
 */
import * as assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { resolvePython } from '../../../src/runner/pythonInterpreter';
import { activateNormScope, hoverText, openFixture, positionOf, waitFor, waitForFinding } from './helpers';

suite('follow', () => {
  let child: ChildProcess | undefined;
  let remoteRoot: string | undefined;
  teardown(() => {
    if (child && child.exitCode === null) child.kill();
    if (remoteRoot) fs.rmSync(remoteRoot, { recursive: true, force: true });
  });

  test('Follow a run being written: the panel gets new steps, the late dead ReLU appears on its line, then the end', async function () {
    this.timeout(300_000); // each wait below fails first, naming what did not happen
    const api = await activateNormScope();
    const extension = vscode.extensions.getExtension('normscope.normscope')!.extensionPath;
    const folder = vscode.workspace.workspaceFolders![0].uri.fsPath;
    // The model as the run's machine had it (another root), and as this workspace has it: mapped by relative path.
    const model = path.join(extension, 'test', 'fixtures', 'pytorch', 'late_failure', 'model.py');
    remoteRoot = fs.mkdtempSync(path.join(tmpdir(), 'normscope-remote-'));
    fs.copyFileSync(model, path.join(remoteRoot, 'model.py'));
    fs.copyFileSync(model, path.join(folder, 'model.py'));
    const dir = path.join(folder, '.normscope', 'runs', 'late-failure');
    const python = await resolvePython({});
    let output = '';
    child = spawn(
      python.path,
      [path.join(extension, 'test', 'python', 'runlog_late_failure.py'), dir, remoteRoot, '--steps', '1100', '--sleep', '0.02'],
      { env: { ...process.env, PYTHONPATH: path.join(extension, 'python') } },
    );
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    await waitFor("the run's first step", () => output.includes('step 0\n') || child!.exitCode !== null, 120_000).catch((e: Error) => {
      throw new Error(`${e.message}; the training printed:\n${output.slice(-2000)}`);
    });
    assert.equal(child.exitCode, null, `the training ended early: ${output.slice(-2000)}`);

    const started = await vscode.commands.executeCommand<{ dir: string } | undefined>('normscope.followRun', dir);
    assert.equal(started?.dir, dir);
    const first = await waitFor(
      'samples sent to the panel',
      () => (api.follow.state!.samplesSent > 0 ? api.follow.state!.samplesSent : 0),
      60_000,
    );
    const firstStep = api.follow.state!.step;
    await waitFor('more samples sent to the panel while the run trains', () => api.follow.state!.samplesSent > first + 10, 120_000);
    assert.ok(api.follow.state!.step > firstStep, 'the followed step advanced');
    const run = api.results.get(dir);
    assert.ok(run && run.samples.length > 0, 'the run is in the results (hovers and the tree read it)');
    assert.equal(api.follow.state!.liveness !== 'ended' || child.exitCode !== null, true);

    // The Training Runs view lists it: live, its script, steps so far, findings.
    const view = api.follow.runsView!;
    assert.ok(
      view.getChildren().some((n) => n.dir === dir),
      'the run is in the Training Runs view',
    );
    assert.match(String(view.getTreeItem({ dir }).description), /^live · runlog_late_failure\.py · [\d,]+ steps · \d+ findings?$/);

    const editor = await openFixture('model.py');
    const actLine = positionOf(editor.document, 'self.act2 = nn.ReLU()').line;
    const diag = await waitForFinding(editor.document.uri, 'dead', 180_000);
    assert.equal(diag.range.start.line, actLine, `the dead finding sits on the act2 line: ${diag.message}`);
    const finding = api.results.get(dir)!.findings.find((f) => f.kind === 'dead');
    assert.equal(finding?.source?.file, editor.document.uri.fsPath, 'mapped from the other root onto the workspace');
    assert.ok(finding!.step! >= 801 && finding!.step! <= 810, `from the step it started: ${finding!.step}`);
    const pos = positionOf(editor.document, 'self.act2 = nn.ReLU()', 'self.act2 = nn.'.length);
    const hover = hoverText(await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', editor.document.uri, pos));
    assert.match(hover, /act2/, `a live hover on the act2 line:\n${hover}`);

    await waitFor('the end record', () => api.follow.state!.liveness === 'ended', 180_000);
    assert.equal(api.results.get(dir)?.status, 'done', 'the report arrived');
    await waitFor('the view to show the run ended', () =>
      /^ended · runlog_late_failure\.py · 1,100 steps · [1-9]\d* findings?$/.test(String(view.getTreeItem({ dir }).description)),
    );
    assert.ok(api.results.get(dir)!.report!.loss.length >= 1100);
    await vscode.commands.executeCommand('normscope.stopFollowing');
  });
});
