/** Command handlers: thin glue from command ids to the run manager, panel and editor. */
import * as vscode from 'vscode';
import type { NormScopeContext } from './context';
import { BuilderRuns, builderFunctionsOf, type ModelChoice } from './builderCommands';
import { isModelDocument, type DocumentIndex } from './documentIndex';
import type { PanelView } from '../host/panelView';
import type { RunManager } from './runs';
import type { RunResults } from '../host/runResults';
import type { PythonModels } from './pythonModels';
import { isPythonModel } from '../runner/pythonClient';

/** The file a command acts on: its argument (CodeLens, context menu) or the active editor. */
function targetFile(arg: unknown): vscode.Uri | undefined {
  if (arg instanceof vscode.Uri) return arg;
  const doc = vscode.window.activeTextEditor?.document;
  return doc && (isModelDocument(doc) || doc.languageId === 'python' || /(^|[\\/])[^\\/]*\.json$/i.test(doc.fileName))
    ? doc.uri
    : undefined;
}

export function registerCommands(
  ctx: NormScopeContext,
  runs: RunManager,
  panel: PanelView,
  results: RunResults,
  index: DocumentIndex,
  pythonModels?: PythonModels,
): void {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- vscode.commands.registerCommand's own callback type
  const register = (id: string, fn: (...args: any[]) => unknown) => ctx.own(vscode.commands.registerCommand(id, fn));
  const builders = new BuilderRuns(ctx, index, pythonModels);
  const startRun = async (uri: vscode.Uri, choice: ModelChoice) => {
    // The worker reads files from disk: save pending edits of the model and of the files next to it (its
    // relative imports, a generated norm-layers file) so the run sees what the user sees.
    const folder = vscode.workspace.getWorkspaceFolder(uri)?.uri.fsPath ?? vscode.Uri.joinPath(uri, '..').fsPath;
    for (const doc of vscode.workspace.textDocuments) {
      if (doc.isDirty && doc.uri.scheme === uri.scheme && doc.uri.fsPath.startsWith(folder)) await doc.save();
    }
    if (vscode.workspace.isTrusted) panel.show(undefined, true);
    return runs.check(uri.fsPath, choice);
  };

  register('normscope.checkFile', async (arg?: unknown) => {
    const uri = targetFile(arg);
    if (!uri) {
      void vscode.window.showInformationMessage(
        'NormScope: open a JavaScript or TypeScript file that builds a model (or a model.json) first.',
      );
      return undefined;
    }
    // Untrusted: runs.check explains why nothing runs, before any question about arguments.
    const choice = vscode.workspace.isTrusted ? await builders.choiceForFile(uri) : {};
    return choice ? startRun(uri, choice) : undefined;
  });
  // On a PyTorch file `name` is a class (or builder function) of it, `pythonArgs` its arguments as Python text.
  register('normscope.checkFunction', async (uri: vscode.Uri, name: string, pythonArgs?: string) => {
    if (isPythonModel(uri.fsPath)) {
      const choice = vscode.workspace.isTrusted && pythonModels ? await pythonModels.choiceFor(uri, name, pythonArgs) : { model: name };
      return choice ? startRun(uri, choice) : undefined;
    }
    const doc = await vscode.workspace.openTextDocument(uri);
    const fn = builderFunctionsOf(index, doc).find((b) => b.name === name);
    if (!fn) {
      void vscode.window.showWarningMessage(
        `NormScope: ${vscode.workspace.asRelativePath(uri)} has no function '${name}' that builds a model any more.`,
      );
      return undefined;
    }
    const choice = vscode.workspace.isTrusted ? await builders.choiceFor(doc, fn) : {};
    return choice ? startRun(uri, choice) : undefined;
  });
  register('normscope.changeArguments', async (arg?: unknown, name?: string) => {
    const uri = targetFile(arg);
    if (!uri) return undefined;
    const choice = await builders.changeArguments(uri, name);
    return choice ? startRun(uri, choice) : undefined;
  });
  register('normscope.showPanel', () => {
    panel.show(vscode.window.activeTextEditor?.document.uri.fsPath);
  });
  register('normscope.cancelRun', () => {
    if (!runs.cancelAll()) void vscode.window.showInformationMessage('NormScope: no run is in progress.');
  });
  register('normscope.showLog', () => ctx.log.show(true));
  register('normscope.focusLayer', (file: string, index: number) => panel.focusLayer(file, index));
  register('normscope.revealLayer', async (file: string, index: number) => {
    const run = results.get(file);
    const shown = await panel.revealLayer(run, index);
    if (!shown)
      void vscode.window.showInformationMessage(
        `NormScope: layer ${run?.layers[index]?.name ?? index} has no source line (model.json layers do not).`,
      );
    if (run) panel.focusLayer(file, index);
  });
}
