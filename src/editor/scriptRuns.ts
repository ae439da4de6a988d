/**
 * "NormScope: Check Training Script": runs the active (or given) script with its command-line
 * arguments and measures every model it trains (src/worker/script), and a CodeLens on each
 * `.fit(` / `.fitDataset(` / `.trainOnBatch(` call that starts it. The arguments are remembered per
 * script in the workspace: the palette command asks for them (showing the last ones), a lens reuses them.
 */
import * as vscode from 'vscode';
import { mayDefineModel } from '../analysis/mayDefineModel';
import type { TrainingCall } from '../analysis/trainingCalls';
import { splitArgs } from '../runner/scriptArgs';
import { analysis } from './analysis';
import type { NormScopeContext } from './context';
import { isModelDocument } from './documentIndex';
import type { PanelBridge } from '../panel/panelBridge';
import type { RunManager } from './runs';

const ARGS_KEY = 'normscope.scriptArgs';

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
    const steps = this.ctx.settings.steps;
    return hit.calls.map((call) => {
      const at = doc.positionAt(call.start);
      return new vscode.CodeLens(new vscode.Range(at, at), {
        title: `▶ Check training script (${steps} steps of ${call.receiver}.${call.method})`,
        command: 'normscope.checkScript',
        arguments: [doc.uri],
        tooltip: 'Run this script with its own data and measure every model it trains',
      });
    });
  }
}

export function registerScriptRuns(ctx: NormScopeContext, runs: RunManager, panel: PanelBridge): void {
  ctx.own(
    vscode.commands.registerCommand('normscope.checkScript', async (arg?: unknown, givenArgs?: string[]) => {
      const uri = arg instanceof vscode.Uri ? arg : vscode.window.activeTextEditor?.document.uri;
      const doc = uri && vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
      if (!uri || (doc && !isModelDocument(doc))) {
        void vscode.window.showInformationMessage('NormScope: open a JavaScript or TypeScript training script first.');
        return undefined;
      }
      const remembered = ctx.extension.workspaceState.get<Record<string, string[]>>(ARGS_KEY, {});
      let args = givenArgs ?? remembered[uri.fsPath];
      if (!givenArgs && !(arg instanceof vscode.Uri)) {
        const line = await vscode.window.showInputBox({
          title: `NormScope: arguments for ${vscode.workspace.asRelativePath(uri)}`,
          prompt: 'As on the command line after the script name (process.argv); empty for none',
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
