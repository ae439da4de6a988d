/**
 * "NormScope: Install the Python package into the selected interpreter": `<python> -m pip install <extension>/python`
 * for the interpreter the PyTorch checks use (normscope.pythonPath, else the Python extension's), with pip's output in
 * the NormScope log, so `import normscope` (normscope.watch) works in the user's own training scripts.
 */
import * as vscode from 'vscode';
import { hasSetuptools, installArgs, pipProblem, pythonPackageFolder, runPip, stagePackage } from '../runner/pipInstall';
import type { NormScopeContext } from './context';
import { pythonExtensionInterpreter } from './pythonEditor';

/** The interpreter the PyTorch checks use for `resource`: the setting, the Python extension's, else python3. */
export async function selectedInterpreter(ctx: NormScopeContext, resource?: vscode.Uri): Promise<string> {
  const explicit = ctx.settings.pythonPath;
  if (explicit) return explicit;
  const uri = resource ?? vscode.window.activeTextEditor?.document.uri ?? vscode.workspace.workspaceFolders?.[0]?.uri;
  return (uri && (await pythonExtensionInterpreter(uri))) || 'python3';
}

/** Installs the package; resolves true when pip succeeded. Errors are shown with how to fix them. */
export async function installPythonPackage(ctx: NormScopeContext, resource?: vscode.Uri): Promise<boolean> {
  const found = pythonPackageFolder(ctx.extension.extensionPath);
  if ('error' in found) {
    void ctx.reportError(`NormScope: ${found.error}`);
    return false;
  }
  const python = await selectedInterpreter(ctx, resource);
  const say = (line: string) => ctx.log.info(`pip: ${line}`);
  const probe = await runPip(python, ['--version'], say);
  if (probe.code !== 0) {
    void ctx.reportError(
      `NormScope: ${pipProblem(probe.output, python) ?? `"${python} -m pip --version" failed (exit ${probe.code}); see the log`}`,
    );
    return false;
  }
  const staged = stagePackage(found.folder);
  const args = installArgs(staged.folder, await hasSetuptools(python));
  ctx.log.info(`${python} -m pip ${args.join(' ')} (a copy of ${found.folder})`);
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `NormScope: pip install into ${python}`, cancellable: true },
    (progress, token) => {
      const abort = new AbortController();
      token.onCancellationRequested(() => abort.abort());
      return runPip(
        python,
        args,
        (line) => {
          say(line);
          progress.report({ message: line.slice(0, 120) });
        },
        abort.signal,
      ).finally(() => staged.dispose());
    },
  );
  if (result.code !== 0) {
    const why = pipProblem(result.output, python) ?? `pip failed (exit ${result.code ?? 'cancelled'}); its output is in the log`;
    void ctx.reportError(`NormScope: could not install the Python package into ${python}: ${why}`);
    return false;
  }
  void vscode.window.showInformationMessage(
    `NormScope: installed into ${python}. In a training script: "import normscope; watcher = normscope.watch(model, optimizer)".`,
  );
  return true;
}
