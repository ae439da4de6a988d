/**
 * Editor features on PyTorch (.py) files. Layers are located by the engine at run time (the creating call's
 * line and column, from frame inspection), so hovers need no parser: a hover on a line that created measured
 * layers shows their live numbers, spanning the callee from the recorded column to its `(`. The CodeLens at
 * the top of the file starts a check and shows the last run's summary.
 */
import * as vscode from 'vscode';
import { RedrawingLensProvider } from './lensProvider';
import { swapPythonNorm, type PythonSwapTarget } from '../runner/pythonSwap';
import { buildLayerHover } from './hoverMarkdown';
import type { NormScopeContext } from './context';
import type { RunResults } from '../host/runResults';
import { runSummary } from './summary';
import { errorMessage } from '../protocol';
import { toDisposable } from '../host/disposable';
import { pythonSignature, type PythonModels } from './pythonModels';

export const PYTHON_SELECTOR: vscode.DocumentSelector = [{ language: 'python', scheme: 'file' }];

/** The Python extension's selected interpreter, when that extension is installed and active. */
export async function pythonExtensionInterpreter(resource: vscode.Uri): Promise<string | undefined> {
  const ext = vscode.extensions.getExtension<{ settings?: { getExecutionDetails?(uri?: vscode.Uri): { execCommand?: string[] } } }>(
    'ms-python.python',
  );
  if (!ext) return undefined;
  try {
    const api = ext.isActive ? ext.exports : await ext.activate();
    return api?.settings?.getExecutionDetails?.(resource)?.execCommand?.[0];
  } catch {
    return undefined;
  }
}

/** Swap the norm on `line` of a saved PyTorch document (the engine's ast-based swap reads the file); false when it does not apply. */
export async function applyPythonSwap(
  ctx: NormScopeContext,
  doc: vscode.TextDocument,
  line: number,
  to: PythonSwapTarget,
): Promise<boolean> {
  if (doc.isDirty) await doc.save();
  let newText: string;
  try {
    ({ newText } = await swapPythonNorm(doc.uri.fsPath, line, to, ctx.extension.asAbsolutePath('python'), {
      explicit: ctx.settings.pythonPath || undefined,
    }));
  } catch (e) {
    void vscode.window.showWarningMessage(`NormScope: ${errorMessage(e)}`);
    return false;
  }
  const edit = new vscode.WorkspaceEdit();
  edit.replace(doc.uri, new vscode.Range(0, 0, doc.lineCount, 0), newText);
  return vscode.workspace.applyEdit(edit, { isRefactoring: true });
}

export class PythonHoverProvider implements vscode.HoverProvider {
  constructor(private readonly results: RunResults) {}

  provideHover(doc: vscode.TextDocument, position: vscode.Position): vscode.Hover | undefined {
    const file = doc.uri.fsPath;
    const line = position.line + 1;
    const instances = this.results.layersAtLine(file, line);
    if (instances.length === 0) return undefined;
    const text = doc.lineAt(position.line).text;
    const start = Math.max(0, (instances[0].layer.source?.column ?? 1) - 1);
    const paren = text.indexOf('(', start);
    const end = paren > start ? paren : text.trimEnd().length;
    if (position.character < start || position.character > end) return undefined;
    const run = this.results.runAtLine(file, line);
    const names = new Set(instances.map((s) => s.layer.name));
    // The layer's own findings, and those it is related to (the dead ReLU it feeds).
    const concerns = (layer: string | null) => layer !== null && names.has(layer);
    const findings = (run?.findings ?? []).filter((f) => concerns(f.layer) || (f.related ?? []).some((r) => concerns(r.layer)));
    const runStatus = run
      ? `${run.status}${run.samples.length ? ` · step ${run.samples[run.samples.length - 1].step + 1}/${run.steps}` : ''} · PyTorch`
      : undefined;
    const first = instances[0].layer;
    const md = new vscode.MarkdownString(
      buildLayerHover({
        file,
        callee: text.slice(start, end),
        calleeText: text.slice(start, end),
        className: first.className,
        isNorm: first.isNorm,
        instances,
        findings,
        runStatus,
      }),
      true,
    );
    md.isTrusted = { enabledCommands: ['normscope.focusLayer'] };
    return new vscode.Hover(md, new vscode.Range(position.line, start, position.line, end));
  }
}

export class PythonCodeLensProvider extends RedrawingLensProvider {
  constructor(
    private readonly ctx: NormScopeContext,
    private readonly results: RunResults,
    /** The file's model candidates and remembered arguments; without it only the file's lens. */
    private readonly models?: PythonModels,
  ) {
    super();
    this.own(toDisposable(results.onDidChange(() => this.redraw())));
  }

  /** A remembered choice changed (Change Arguments…, a first run's answers): redraw the `args:` lens. */
  refresh(): void {
    this.redraw();
  }

  async provideCodeLenses(doc: vscode.TextDocument): Promise<vscode.CodeLens[]> {
    // Only files that use torch.nn: a plain script gets no lens.
    if (!/^\s*(import torch|from torch)/m.test(doc.getText())) return [];
    const top = new vscode.Range(0, 0, 0, 0);
    const steps = this.ctx.settings.steps;
    const lenses = [
      new vscode.CodeLens(top, {
        title: `▶ Check normalization (${steps} steps, PyTorch)`,
        command: 'normscope.checkFile',
        arguments: [doc.uri],
        tooltip: 'Train this PyTorch model briefly and measure every layer',
      }),
    ];
    const remembered = this.models?.remembered(doc.uri.fsPath);
    if (remembered?.model) {
      const shown = `${remembered.model}(${remembered.pythonArgs ?? ''})`;
      lenses.push(
        new vscode.CodeLens(top, {
          title: `model: ${shown.length > 60 ? `${shown.slice(0, 59)}…` : shown}`,
          command: 'normscope.changeArguments',
          arguments: [doc.uri, remembered.model],
          tooltip: 'Change or forget the model and arguments this file is checked with',
        }),
      );
    }
    const run = this.results.get(doc.uri.fsPath);
    if (run)
      lenses.push(
        new vscode.CodeLens(top, { title: runSummary(run), command: 'normscope.showPanel', tooltip: 'Open the training-health panel' }),
      );
    // Several models no other class uses (word_language_model's RNNModel and TransformerModel): one lens each, as the
    // tfjs side has for each builder function.
    const candidates = this.models ? await this.models.candidates(doc) : [];
    if (candidates.length > 1)
      for (const c of candidates) {
        const at = new vscode.Range(c.line - 1, 0, c.line - 1, 0);
        lenses.push(
          new vscode.CodeLens(at, {
            title: `▶ Check normalization of ${c.name} (${steps} steps, PyTorch)`,
            command: 'normscope.checkFunction',
            arguments: [doc.uri, c.name],
            tooltip: `Build ${pythonSignature(c)}, train it briefly and measure every layer`,
          }),
        );
      }
    return lenses;
  }
}
