/**
 * The one object that owns NormScope's lifecycles in the extension host: every disposable, the log channel,
 * and access to settings. Everything the extension registers goes through `own()` so deactivation is complete.
 * VS Code glue, so it lives with the editor; the panel gets only what it needs (the extension's URI).
 */
import * as vscode from 'vscode';
import { Disposable, type DisposableLike } from '../host/disposable';
import { readSettings, type NormScopeSettings } from '../host/settings';

export class NormScopeContext extends Disposable implements vscode.Disposable {
  readonly log: vscode.LogOutputChannel;

  constructor(readonly extension: vscode.ExtensionContext) {
    super();
    this.log = this.own(vscode.window.createOutputChannel('NormScope', { log: true }));
  }

  /**
   * Take ownership of a disposable; it is disposed (newest first) with the context, or at once when the context
   * is already disposed (a registration that finishes after deactivation).
   */
  override own<T extends DisposableLike>(disposable: T): T {
    return super.own(disposable);
  }

  /** Current settings, read on every call so that changes take effect without reload. */
  get settings(): NormScopeSettings {
    return readSettings(vscode.workspace.getConfiguration('normscope'));
  }

  get extensionUri(): vscode.Uri {
    return this.extension.extensionUri;
  }

  /** Absolute path of a file shipped in the extension's dist/ folder. */
  distPath(...parts: string[]): string {
    return vscode.Uri.joinPath(this.extension.extensionUri, 'dist', ...parts).fsPath;
  }

  /** Log an error and surface it once, with a way to the log. */
  async reportError(message: string, error?: unknown): Promise<void> {
    this.log.error(message, ...(error ? [error instanceof Error ? (error.stack ?? error.message) : String(error)] : []));
    const choice = await vscode.window.showErrorMessage(message, 'Show log');
    if (choice === 'Show log') this.log.show(true);
  }
}
