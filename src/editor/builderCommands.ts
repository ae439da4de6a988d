/**
 * Running one builder function from the editor: its own CodeLens (`normscope.checkFunction`), the file-level
 * command when the file's model is made by a function, and "NormScope: Change Arguments…".
 */
import * as vscode from 'vscode';
import type { BuilderFunction } from '../analysis/builderFunctions';
import type { RunOptions } from '../protocol/run';
import { analysis } from './analysis';
import type { NormScopeContext } from './context';
import type { DocumentIndex } from './documentIndex';
import { FunctionArguments } from './functionArgs';
import type { PythonModels } from './pythonModels';

/**
 * What a run checks: a function and its arguments (both absent: the file's exported model or factory); on a PyTorch
 * file a class or function with its arguments as Python text (./pythonModels.ts).
 */
export type ModelChoice = Pick<RunOptions, 'model' | 'args' | 'pythonArgs'>;

export function builderFunctionsOf(index: DocumentIndex, doc: vscode.TextDocument): BuilderFunction[] {
  return analysis().findBuilderFunctions(index.get(doc).sourceFile);
}

/** Model definitions the per-file lens and command keep handling: module-level models, and factories no builder covers. */
export function moduleLevelModels(index: DocumentIndex, doc: vscode.TextDocument, builders: readonly BuilderFunction[]) {
  return index.get(doc).models.filter((m) => m.container === null && !builders.some((b) => b.start <= m.start && m.end <= b.end));
}

export class BuilderRuns {
  readonly args: FunctionArguments;

  constructor(
    ctx: NormScopeContext,
    private readonly index: DocumentIndex,
    /** PyTorch files' model choices; without it the engine finds the model itself. */
    readonly python?: PythonModels,
  ) {
    this.args = new FunctionArguments(ctx.extension.workspaceState);
  }

  /** The choice for `fn` of `doc` with resolved arguments; undefined when the user dismissed the question. */
  async choiceFor(doc: vscode.TextDocument, fn: BuilderFunction): Promise<ModelChoice | undefined> {
    const args = await this.args.resolve(doc.uri.fsPath, this.index.get(doc).sourceFile, fn);
    if (args === undefined) return undefined;
    return { model: fn.name, ...(args ? { args } : {}) };
  }

  /**
   * "Check Normalization in This File": the exported/module-level model as before; when only functions make
   * the model, the exported factory or the only function, else the one the user picks.
   */
  async choiceForFile(uri: vscode.Uri): Promise<ModelChoice | undefined> {
    // model.json: the worker finds the model itself.
    if (/\.json$/i.test(uri.fsPath)) return {};
    if (/\.py$/i.test(uri.fsPath)) return this.python ? this.python.choiceFor(uri) : {};
    const doc = await vscode.workspace.openTextDocument(uri);
    const builders = builderFunctionsOf(this.index, doc);
    if (builders.length === 0 || moduleLevelModels(this.index, doc, builders).length > 0) return {};
    const fn =
      builders.find((b) => b.exported && (analysis().FACTORY_NAMES.has(b.name) || b.name === 'default')) ??
      (builders.length === 1 ? builders[0] : await this.pick(builders, 'Which function builds the model to check?'));
    return fn ? this.choiceFor(doc, fn) : undefined;
  }

  /** For a what-if run on `line`: the builder function around it, else as for the whole file. */
  async choiceForLine(uri: vscode.Uri, line: number): Promise<ModelChoice | undefined> {
    if (/\.(json|py)$/i.test(uri.fsPath)) return this.choiceForFile(uri);
    const doc = await vscode.workspace.openTextDocument(uri);
    const offset = doc.offsetAt(new vscode.Position(line - 1, 0));
    const fn = builderFunctionsOf(this.index, doc).find((b) => b.start <= offset && offset <= b.end);
    return fn ? this.choiceFor(doc, fn) : this.choiceForFile(uri);
  }

  async pick(builders: readonly BuilderFunction[], title: string): Promise<BuilderFunction | undefined> {
    const picked = await vscode.window.showQuickPick(
      builders.map((b) => ({ label: analysis().signatureOf(b), description: `line ${b.line}`, fn: b })),
      { title: `NormScope: ${title}` },
    );
    return picked?.fn;
  }

  /** "NormScope: Change Arguments…": edit or forget the remembered arguments of a function. Resolves the new choice to run, if any. */
  async changeArguments(uri: vscode.Uri, name?: string): Promise<ModelChoice | undefined> {
    if (/\.py$/i.test(uri.fsPath) && this.python) return this.python.change(uri, name);
    const doc = await vscode.workspace.openTextDocument(uri);
    const builders = builderFunctionsOf(this.index, doc).filter((b) => b.params.length > 0);
    if (builders.length === 0) {
      void vscode.window.showInformationMessage(
        `NormScope: no function with parameters builds a model in ${vscode.workspace.asRelativePath(uri)}.`,
      );
      return undefined;
    }
    const fn =
      builders.find((b) => b.name === name) ??
      (builders.length === 1 ? builders[0] : await this.pick(builders, 'Change the arguments of which function?'));
    if (!fn) return undefined;
    const file = uri.fsPath;
    const current = this.args.remembered(file, fn.name);
    if (current) {
      const action = await vscode.window.showQuickPick(['Edit the arguments…', 'Forget them (ask again next run)'], {
        title: `NormScope: ${analysis().signatureOf(fn)}`,
      });
      if (!action) return undefined;
      if (action.startsWith('Forget')) {
        await this.args.remember(file, fn.name, undefined);
        return undefined;
      }
    }
    const args = await this.args.ask(file, fn, current);
    if (!args) return undefined;
    await this.args.remember(file, fn.name, args);
    return { model: fn.name, args };
  }
}
