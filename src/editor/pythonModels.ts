/**
 * Which model of a PyTorch file a run checks, and its arguments, as the tfjs side asks for builder functions
 * (./functionArgs.ts): the engine's lint lists the candidates (the classes no other class of the file uses, with their
 * constructor parameters, python/normscope/analysis/candidates.py); several → a quick pick (or each one's CodeLens), a
 * constructor with required parameters → an input box taking a Python argument list as written between the
 * parentheses of a call (`GPTConfig(n_layer=2), dropout=0.1`), evaluated by the engine in the file's namespace.
 * The choice is remembered per file in the workspace; "NormScope: Change Arguments…" edits or forgets it.
 */
import * as vscode from 'vscode';
import type { RunOptions } from '../protocol/run';
import type { PythonLintCache, PythonModelCandidate } from '../runner/pythonLint';

export type PythonChoice = Pick<RunOptions, 'model' | 'pythonArgs'>;

export function pythonSignature(c: Pick<PythonModelCandidate, 'name' | 'params'>): string {
  return `${c.name}(${c.params.join(', ')})`;
}

export class PythonModels {
  constructor(
    private readonly state: vscode.Memento,
    private readonly lints: PythonLintCache,
  ) {}

  private key(file: string): string {
    return `normscope.pythonModel:${file}`;
  }

  remembered(file: string): PythonChoice | undefined {
    return this.state.get<PythonChoice>(this.key(file));
  }

  async remember(file: string, choice: PythonChoice | undefined): Promise<void> {
    await this.state.update(this.key(file), choice);
  }

  /** The lint's candidates for the document as shown; none when it cannot be linted (the diagnostics say why). */
  async candidates(doc: vscode.TextDocument): Promise<PythonModelCandidate[]> {
    try {
      return (await this.lints.get(doc.uri.fsPath, doc.getText())).models ?? [];
    } catch {
      return [];
    }
  }

  /** Asks for the arguments of `c`; undefined when dismissed. */
  async ask(file: string, c: Pick<PythonModelCandidate, 'name' | 'params'>, initial?: string): Promise<string | undefined> {
    return vscode.window.showInputBox({
      title: `NormScope: arguments for ${pythonSignature(c)}`,
      prompt:
        `Python, as between the parentheses of ${c.name}(...), evaluated in the file's namespace ` +
        `(e.g. 128, dropout=0.1 or Config(n_layer=2)). Remembered for ${vscode.workspace.asRelativePath(file)}; ` +
        'change with "NormScope: Change Arguments…".',
      placeHolder: c.params.join(', '),
      value: initial,
      ignoreFocusOut: true,
      validateInput: (value) => (value.trim() || c.params.length === 0 ? undefined : `${pythonSignature(c)} needs arguments`),
    });
  }

  private async pick(candidates: PythonModelCandidate[], title: string): Promise<PythonModelCandidate | undefined> {
    const picked = await vscode.window.showQuickPick(
      candidates.map((c) => ({ label: pythonSignature(c), description: `line ${c.line}`, c })),
      { title: `NormScope: ${title}`, ignoreFocusOut: true },
    );
    return picked?.c;
  }

  /**
   * The choice to run `uri` with (`name`: the model a lens or command names): remembered, else asked when the file
   * does not settle it; `{}` when the engine finds the model itself, undefined when the user dismissed a question.
   */
  async choiceFor(uri: vscode.Uri, name?: string, pythonArgs?: string): Promise<PythonChoice | undefined> {
    const file = uri.fsPath;
    if (pythonArgs !== undefined) return this.keep(file, { ...(name ? { model: name } : {}), pythonArgs });
    const remembered = this.remembered(file);
    if (remembered && (!name || remembered.model === name)) return remembered;
    const candidates = await this.candidates(await vscode.workspace.openTextDocument(uri));
    const chosen = name
      ? (candidates.find((c) => c.name === name) ?? { name, params: [], required: 0, line: 0, kind: 'class' as const })
      : candidates.length > 1
        ? await this.pick(candidates, 'Which model of this file should NormScope check?')
        : candidates[0];
    if (!chosen) return candidates.length > 1 ? undefined : {};
    if (chosen.required === 0) return name || candidates.length > 1 ? { model: chosen.name } : {};
    const text = await this.ask(file, chosen);
    return text === undefined ? undefined : this.keep(file, { model: chosen.name, pythonArgs: text });
  }

  private async keep(file: string, choice: PythonChoice): Promise<PythonChoice> {
    await this.remember(file, choice);
    return choice;
  }

  /** "NormScope: Change Arguments…" on a PyTorch file: edit the remembered arguments, or forget them. */
  async change(uri: vscode.Uri, name?: string): Promise<PythonChoice | undefined> {
    const file = uri.fsPath;
    const current = this.remembered(file);
    if (current) {
      const action = await vscode.window.showQuickPick(['Edit the arguments…', 'Forget them (ask again next run)'], {
        title: `NormScope: ${current.model ?? 'the model'}(${current.pythonArgs ?? ''})`,
      });
      if (!action) return undefined;
      if (action.startsWith('Forget')) {
        await this.remember(file, undefined);
        return undefined;
      }
    }
    const candidates = await this.candidates(await vscode.workspace.openTextDocument(uri));
    const wanted = name ?? current?.model;
    const chosen =
      candidates.find((c) => c.name === wanted) ??
      (candidates.length === 1 ? candidates[0] : await this.pick(candidates, 'Change the arguments of which model?'));
    const model = chosen?.name ?? wanted;
    if (!model) {
      void vscode.window.showInformationMessage(
        `NormScope: ${vscode.workspace.asRelativePath(uri)} has no nn.Module class to give arguments to.`,
      );
      return undefined;
    }
    const text = await this.ask(file, chosen ?? { name: model, params: [] }, current?.model === model ? current.pythonArgs : undefined);
    return text === undefined ? undefined : this.keep(file, { model, pythonArgs: text });
  }
}
