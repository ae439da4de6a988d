/** CodeLens above each model definition: start a run, and after one, its one-line summary. */
import * as vscode from 'vscode';
import { analysis } from './analysis';
import type { NormScopeContext } from './context';
import type { DocumentIndex } from './documentIndex';
import type { RunResults } from './runResults';
import { runSummary } from './summary';

export class ModelCodeLensProvider implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;
  private readonly off: () => void;

  constructor(private readonly ctx: NormScopeContext, private readonly index: DocumentIndex, private readonly results: RunResults) {
    this.off = results.onDidChange(() => this.changed.fire());
  }

  /** Settings changed (e.g. steps): redraw the titles. */
  refresh(): void {
    this.changed.fire();
  }

  provideCodeLenses(doc: vscode.TextDocument): vscode.CodeLens[] {
    // A sequential() inside a factory belongs to the factory: one lens per top-level definition.
    if (!this.index.mayDefineModel(doc)) return [];
    const parsed = this.index.get(doc);
    const models = parsed.models.filter((m) => m.container === null);
    if (models.length === 0) return [];
    // The steps the run will use: the file's own `normscope.steps` wins over the setting, as in the worker.
    const steps = analysis().findSpecSteps(parsed.sourceFile)?.value ?? this.ctx.settings.steps;
    const run = this.results.get(doc.uri.fsPath);
    const lenses: vscode.CodeLens[] = [];
    for (const m of models) {
      const range = new vscode.Range(doc.positionAt(m.start), doc.positionAt(m.start));
      lenses.push(new vscode.CodeLens(range, { title: `▶ Check normalization (${steps} steps)`, command: 'normscope.checkFile', arguments: [doc.uri], tooltip: 'Train this model briefly and measure every layer' }));
      if (run) lenses.push(new vscode.CodeLens(range, { title: runSummary(run), command: 'normscope.showPanel', tooltip: 'Open the training-health panel' }));
    }
    return lenses;
  }

  dispose(): void {
    this.off();
    this.changed.dispose();
  }
}
