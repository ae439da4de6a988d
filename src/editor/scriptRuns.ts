/**
 * "NormScope: Check Training Script": runs the active (or given) script with its command-line
 * arguments and measures every model it trains (src/worker/script; a `.py` script in the PyTorch engine,
 * python/normscope/engine/script.py), and a CodeLens on each `.fit(` / `.fitDataset(` / `.trainOnBatch(` call
 * (PyTorch: `optimizer.step()`, else `loss.backward()`, or the call of an imported helper that trains, found by the
 * engine's `ast` lint, python/normscope/analysis/training_calls.py) that starts it. The
 * arguments are remembered per script in the workspace: the palette command asks for them (showing the last
 * ones), a lens reuses them.
 */
import * as vscode from 'vscode';
import { RedrawingLensProvider } from './lensProvider';
import { mayDefineModel } from '../analysis/mayDefineModel';
import type { TrainingCall } from '../analysis/trainingCalls';
import { isPythonModel } from '../runner/pythonClient';
import type { PythonLintCache, PythonTrainingCall } from '../runner/pythonLint';
import { splitArgs } from '../runner/scriptArgs';
import { analysis } from './analysis';
import type { NormScopeContext } from './context';
import { isModelDocument } from './documentIndex';
import type { PanelView } from '../host/panelView';
import type { RunManager } from './runs';

const ARGS_KEY = 'normscope.scriptArgs';

/** The lens that starts a script run, on the training call `call` (`model.fit`, `optimizer.step`, `train_one_epoch()`). */
function scriptLens(uri: vscode.Uri, at: vscode.Position, call: string, steps: number, where = ''): vscode.CodeLens {
  return new vscode.CodeLens(new vscode.Range(at, at), {
    title: `▶ Check training script (${steps} steps of ${call})`,
    command: 'normscope.checkScript',
    arguments: [uri],
    tooltip: `Run this script with its own data and measure every model it trains${where}`,
  });
}

export class ScriptLensProvider implements vscode.CodeLensProvider {
  private readonly cache = new Map<string, { version: number; calls: TrainingCall[] }>();

  constructor(private readonly ctx: NormScopeContext) {
    ctx.own(vscode.workspace.onDidCloseTextDocument((doc) => this.cache.delete(doc.uri.toString())));
  }

  provideCodeLenses(doc: vscode.TextDocument): vscode.CodeLens[] {
    const key = doc.uri.toString();
    let hit = this.cache.get(key);
    if (!hit || hit.version !== doc.version) {
      // The compiler loads only for files that mention TensorFlow.js at all (as for the model lenses).
      const text = doc.getText();
      hit = { version: doc.version, calls: mayDefineModel(text) ? analysis().findTrainingCalls(text, doc.fileName) : [] };
      this.cache.set(key, hit);
    }
    return hit.calls.map((call) =>
      scriptLens(doc.uri, doc.positionAt(call.start), `${call.receiver}.${call.method}`, this.ctx.settings.steps),
    );
  }
}

/**
 * The same lens on a PyTorch script's training loop; the lint (shared with the diagnostics) finds the call. It moves
 * when a helper module the lint read changes on disk (saved here, or by git, a formatter, another editor).
 */
export class PythonScriptLensProvider extends RedrawingLensProvider {
  constructor(
    private readonly ctx: NormScopeContext,
    private readonly lints: PythonLintCache,
  ) {
    super();
    this.own(vscode.workspace.onDidCloseTextDocument((doc) => lints.forget(doc.uri.fsPath)));
    // The watcher sees the workspace's files however they change; a save is the only signal outside it.
    const watcher = this.own(vscode.workspace.createFileSystemWatcher('**/*.py'));
    this.own(watcher.onDidChange((uri) => this.onDisk(uri)));
    this.own(watcher.onDidDelete((uri) => this.onDisk(uri)));
    this.own(watcher.onDidCreate((uri) => this.onDisk(uri, true)));
    this.own(
      vscode.workspace.onDidSaveTextDocument((doc) => {
        if (doc.languageId === 'python' && !vscode.workspace.getWorkspaceFolder(doc.uri)) this.onDisk(doc.uri);
      }),
    );
  }

  private onDisk(uri: vscode.Uri, created = false): void {
    if (uri.scheme === 'file' && this.lints.invalidate(uri.fsPath, created)) this.redraw();
  }

  async provideCodeLenses(doc: vscode.TextDocument): Promise<vscode.CodeLens[]> {
    if (doc.uri.scheme !== 'file') return [];
    let calls: PythonTrainingCall[];
    try {
      calls = (await this.lints.get(doc.uri.fsPath, doc.getText())).trainingCalls;
    } catch {
      return []; // a syntax error or no Python: the diagnostics say so
    }
    return calls.map((call) => {
      const at = new vscode.Position(call.line - 1, call.column - 1);
      // A helper's call: its name, and in the tooltip the file whose loop does the stepping.
      if (call.method === 'call')
        return scriptLens(
          doc.uri,
          at,
          `${call.receiver}()`,
          this.ctx.settings.steps,
          call.module ? ` (its loop is in ${call.module})` : '',
        );
      return scriptLens(doc.uri, at, `${call.receiver}.${call.method}`, this.ctx.settings.steps);
    });
  }
}

export function registerScriptRuns(ctx: NormScopeContext, runs: RunManager, panel: PanelView): void {
  ctx.own(
    vscode.commands.registerCommand('normscope.checkScript', async (arg?: unknown, givenArgs?: string[]) => {
      const uri = arg instanceof vscode.Uri ? arg : vscode.window.activeTextEditor?.document.uri;
      const doc = uri && vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
      if (!uri || (doc && !isModelDocument(doc) && !isPythonModel(doc.uri.fsPath))) {
        void vscode.window.showInformationMessage('NormScope: open a JavaScript, TypeScript or Python training script first.');
        return undefined;
      }
      const remembered = ctx.extension.workspaceState.get<Record<string, string[]>>(ARGS_KEY, {});
      let args = givenArgs ?? remembered[uri.fsPath];
      if (!givenArgs && !(arg instanceof vscode.Uri)) {
        const line = await vscode.window.showInputBox({
          title: `NormScope: arguments for ${vscode.workspace.asRelativePath(uri)}`,
          prompt: `As on the command line after the script name (${isPythonModel(uri.fsPath) ? 'sys.argv' : 'process.argv'}); empty for none`,
          value: (args ?? []).join(' '),
        });
        if (line === undefined) return undefined;
        args = splitArgs(line);
      }
      args ??= [];
      await ctx.extension.workspaceState.update(ARGS_KEY, { ...remembered, [uri.fsPath]: args });
      // The worker reads from disk: save the script and the files next to it (the model it imports).
      const folder = vscode.Uri.joinPath(uri, '..').fsPath;
      for (const d of vscode.workspace.textDocuments) if (d.isDirty && d.uri.fsPath.startsWith(folder)) await d.save();
      if (vscode.workspace.isTrusted) panel.show(undefined, true);
      return runs.check(uri.fsPath, { script: { args } });
    }),
  );
}
