/**
 * Parses each open JS/TS document once per version (TypeScript compiler API, src/analysis) and keeps the
 * result, so hovers, CodeLens and diagnostics never re-parse on every request.
 */
import * as vscode from 'vscode';
import type { ParsedModelSource } from '../analysis/layerCalls';
import { mayDefineModel } from '../analysis/mayDefineModel';
import { analysis } from './analysis';
import { Disposable, toDisposable } from '../host/disposable';

export const MODEL_LANGUAGES = ['javascript', 'typescript', 'javascriptreact', 'typescriptreact'];
export const MODEL_SELECTOR: vscode.DocumentSelector = MODEL_LANGUAGES.map((language) => ({ language }));

export function isModelDocument(doc: vscode.TextDocument): boolean {
  return (
    MODEL_LANGUAGES.includes(doc.languageId) &&
    (doc.uri.scheme === 'file' || doc.uri.scheme === 'untitled' || doc.uri.scheme === 'vscode-remote')
  );
}

export class DocumentIndex extends Disposable implements vscode.Disposable {
  private readonly cache = new Map<string, { version: number; parsed: ParsedModelSource }>();
  private parses = 0;

  /** `log` hears how long parsing takes: the first parse at info level (the cold cost), later ones at trace. */
  constructor(private readonly log?: vscode.LogOutputChannel) {
    super();
    this.own(toDisposable(() => this.cache.clear()));
    this.own(vscode.workspace.onDidCloseTextDocument((doc) => this.cache.delete(doc.uri.toString())));
  }

  /**
   * False for a document that cannot define a model (no tfjs import, no `tf`, no model factory): providers
   * return nothing for it without calling get(), so unrelated JS/TS files never load the TypeScript compiler.
   */
  mayDefineModel(doc: vscode.TextDocument): boolean {
    const hit = this.cache.get(doc.uri.toString());
    return (hit !== undefined && hit.version === doc.version) || mayDefineModel(doc.getText());
  }

  get(doc: vscode.TextDocument): ParsedModelSource {
    const key = doc.uri.toString();
    const hit = this.cache.get(key);
    if (hit && hit.version === doc.version) return hit.parsed;
    const started = performance.now();
    const parsed = analysis().parseModelSource(doc.getText(), doc.fileName);
    const line = `parsed ${vscode.workspace.asRelativePath(doc.uri)} (${doc.lineCount} lines) in ${(performance.now() - started).toFixed(1)} ms`;
    if (this.parses++ === 0) this.log?.info(`first ${line}`);
    else this.log?.trace(line);
    this.cache.set(key, { version: doc.version, parsed });
    return parsed;
  }
}
