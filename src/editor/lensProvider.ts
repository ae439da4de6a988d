/** The base of NormScope's CodeLens providers that redraw: it owns their change event. */
import * as vscode from 'vscode';
import { Disposable } from '../host/disposable';

export abstract class RedrawingLensProvider extends Disposable implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly changes = this.own(new vscode.EventEmitter<void>());
  readonly onDidChangeCodeLenses = this.changes.event;

  /** Asks VS Code for the lenses again (a run finished, a setting or a file on disk changed). */
  protected redraw(): void {
    this.changes.fire();
  }

  abstract provideCodeLenses(doc: vscode.TextDocument, token: vscode.CancellationToken): vscode.ProviderResult<vscode.CodeLens[]>;
}
