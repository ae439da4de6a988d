/** CodeLens above each model definition and each model-building function: start a run, and after one, its one-line summary. */
import * as vscode from 'vscode';
import { RedrawingLensProvider } from './lensProvider';
import { analysis } from './analysis';
import { builderFunctionsOf, moduleLevelModels } from './builderCommands';
import { FunctionArguments } from './functionArgs';
import type { NormScopeContext } from './context';
import type { DocumentIndex } from './documentIndex';
import type { RunResults } from '../host/runResults';
import { runSummary } from './summary';
import { toDisposable } from '../host/disposable';

export class ModelCodeLensProvider extends RedrawingLensProvider {
  private readonly args: FunctionArguments;

  constructor(
    private readonly ctx: NormScopeContext,
    private readonly index: DocumentIndex,
    private readonly results: RunResults,
  ) {
    super();
    this.args = new FunctionArguments(ctx.extension.workspaceState);
    this.own(toDisposable(results.onDidChange(() => this.redraw())));
  }

  /** Settings changed (e.g. steps): redraw the titles. */
  refresh(): void {
    this.redraw();
  }

  provideCodeLenses(doc: vscode.TextDocument): vscode.CodeLens[] {
    // Each function that builds a model gets its own lens; a sequential() inside one belongs to it. Module-level
    // models (and factories no builder covers) keep the per-file lens.
    if (!this.index.mayDefineModel(doc)) return [];
    const builders = builderFunctionsOf(this.index, doc);
    const models = moduleLevelModels(this.index, doc, builders);
    if (models.length === 0 && builders.length === 0) return [];
    // The steps the run will use: the file's own `normscope.steps` wins over the setting, as in the worker.
    const steps = analysis().findSpecSteps(this.index.get(doc).sourceFile)?.value ?? this.ctx.settings.steps;
    const run = this.results.get(doc.uri.fsPath);
    const lenses: vscode.CodeLens[] = [];
    const at = (offset: number) => new vscode.Range(doc.positionAt(offset), doc.positionAt(offset));
    const summary = (range: vscode.Range) => {
      if (run)
        lenses.push(
          new vscode.CodeLens(range, { title: runSummary(run), command: 'normscope.showPanel', tooltip: 'Open the training-health panel' }),
        );
    };
    for (const m of models) {
      const range = at(m.start);
      lenses.push(
        new vscode.CodeLens(range, {
          title: `▶ Check normalization (${steps} steps)`,
          command: 'normscope.checkFile',
          arguments: [doc.uri],
          tooltip: 'Train this model briefly and measure every layer',
        }),
      );
      summary(range);
    }
    for (const fn of builders) {
      const range = at(fn.start);
      const signature = analysis().signatureOf(fn);
      lenses.push(
        new vscode.CodeLens(range, {
          title: `▶ Check normalization (${steps} steps)`,
          command: 'normscope.checkFunction',
          arguments: [doc.uri, fn.name],
          tooltip: `Call ${signature}, train the model it returns briefly and measure every layer`,
        }),
      );
      const remembered = fn.params.length ? this.args.remembered(doc.uri.fsPath, fn.name) : undefined;
      const shown = remembered ? analysis().formatArgumentList(remembered) || 'the defaults' : '';
      if (remembered)
        lenses.push(
          new vscode.CodeLens(range, {
            title: `args: ${shown.length > 60 ? `${shown.slice(0, 59)}…` : shown}`,
            command: 'normscope.changeArguments',
            arguments: [doc.uri, fn.name],
            tooltip: `Change or forget the arguments ${fn.name}() is checked with`,
          }),
        );
      summary(range);
    }
    return lenses;
  }
}
