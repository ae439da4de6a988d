/**
 * Findings as squiggles and Problems entries on the line that built the layer. Static findings (src/analysis)
 * refresh on open/edit, debounced, with no run; dynamic findings come from the latest run of the file.
 */
import * as vscode from 'vscode';
import type { Finding, RelatedLocation, SourceLocation } from '../protocol/run';
import { analysis } from './analysis';
import type { DocumentIndex } from './documentIndex';
import { isModelDocument } from './documentIndex';
import { findingDocAnchor, findingRange, severityRank } from './findingRanges';
import type { RunResults } from '../host/runResults';
import { errorMessage } from '../protocol';
import { Disposable, toDisposable } from '../host/disposable';

const DEBOUNCE_MS = 300;

export class FindingDiagnostics extends Disposable implements vscode.Disposable {
  private readonly collection = this.own(vscode.languages.createDiagnosticCollection('normscope'));
  private readonly staticFindings = new Map<string, Finding[]>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** Run file → the other files its findings were last shown in. */
  private readonly touched = new Map<string, string[]>();

  constructor(
    private readonly index: DocumentIndex,
    private readonly results: RunResults,
    private readonly log: vscode.LogOutputChannel,
    /** docs/findings.md shipped with the extension (FINDINGS_DOC); each finding kind has a section there. */
    private readonly findingsDoc: vscode.Uri,
    /** Static findings of a PyTorch file from its text (src/runner/pythonLint.ts), when available. */
    private readonly pythonLint?: (file: string, text: string) => Promise<Finding[]>,
  ) {
    super();
    this.own(toDisposable(() => this.timers.forEach((t) => clearTimeout(t))));
    this.own(vscode.workspace.onDidOpenTextDocument((d) => this.lintSoon(d, 0)));
    this.own(vscode.workspace.onDidChangeTextDocument((e) => this.lintSoon(e.document, DEBOUNCE_MS)));
    this.own(
      vscode.workspace.onDidCloseTextDocument((d) => {
        this.staticFindings.delete(d.uri.fsPath);
        this.collection.delete(d.uri);
      }),
    );
    for (const d of vscode.workspace.textDocuments) this.lintSoon(d, 0);
    const off = results.onDidChange((file) => {
      // A script's findings sit in the files its models were built in: refresh those too (and the ones it had before).
      const touched = new Set([file, ...(this.touched.get(file) ?? []), ...this.sourceFiles(file)]);
      this.touched.set(file, this.sourceFiles(file));
      for (const f of touched) this.refresh(f);
    });
    this.own(toDisposable(off));
  }

  private lintSoon(doc: vscode.TextDocument, delay: number): void {
    if (doc.languageId === 'python' && doc.uri.scheme === 'file' && this.pythonLint) return this.lintPythonSoon(doc, delay);
    if (!isModelDocument(doc)) return;
    const key = doc.uri.fsPath;
    this.debounce(key, delay, () => {
      try {
        if (!this.index.mayDefineModel(doc)) this.staticFindings.set(key, []);
        else this.staticFindings.set(key, analysis().lintSource(doc.getText(), doc.fileName, { parsed: this.index.get(doc) }));
      } catch (e) {
        this.log.warn(`static checks failed on ${key}: ${errorMessage(e)}`);
        this.staticFindings.set(key, []);
      }
      this.refresh(key);
    });
  }

  private lintPythonSoon(doc: vscode.TextDocument, delay: number): void {
    const key = doc.uri.fsPath;
    this.debounce(key, delay, () => {
      const version = doc.version;
      this.pythonLint!(key, doc.getText()).then(
        (findings) => {
          if (doc.isClosed || doc.version !== version) return;
          this.staticFindings.set(key, findings);
          this.refresh(key);
        },
        (e) => this.log.warn(`static checks failed on ${key}: ${errorMessage(e)}`),
      );
    });
  }

  /** Runs `work` for `key` once edits have paused for `delay` ms (a newer request replaces a pending one). */
  private debounce(key: string, delay: number, work: () => void): void {
    clearTimeout(this.timers.get(key));
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        work();
      }, delay),
    );
  }

  /** Findings of a file: static ones, the latest run's, and those other runs (training scripts) placed in it. */
  findings(file: string): Finding[] {
    const elsewhere = this.results
      .all()
      .filter((r) => r.file !== file)
      .flatMap((r) => r.findings.filter((f) => findingFiles(f).includes(file)));
    return [...(this.staticFindings.get(file) ?? []), ...(this.results.get(file)?.findings ?? []), ...elsewhere];
  }

  /** Files other than the run's own that its findings point at. */
  private sourceFiles(file: string): string[] {
    return [...new Set((this.results.get(file)?.findings ?? []).flatMap(findingFiles).filter((f) => f !== file))];
  }

  /**
   * The finding behind a diagnostic. Code-action contexts carry copies of our diagnostics, so match by
   * kind, line and message rather than by identity.
   */
  findingFor(uri: vscode.Uri, diag: vscode.Diagnostic): Finding | undefined {
    if (diag.source !== 'NormScope') return undefined;
    const kind = typeof diag.code === 'object' ? diag.code.value : diag.code;
    return this.findings(uri.fsPath).find(
      (f) => f.kind === kind && diag.message.startsWith(f.message) && (!f.source || f.source.line - 1 === diag.range.start.line),
    );
  }

  private refresh(file: string): void {
    if (this.isDisposed) return; // a Python lint that answers after deactivation
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.fsPath === file);
    const uri = doc?.uri ?? vscode.Uri.file(file);
    const lines = doc ? doc.getText().split(/\r?\n/) : [];
    const calls = doc && isModelDocument(doc) && this.index.mayDefineModel(doc) ? this.index.get(doc).calls : [];
    const diagnostics: vscode.Diagnostic[] = [];
    const add = (f: Finding, message: string, links: { source: SourceLocation; message: string }[]) => {
      const r = findingRange(f, lines, calls) ?? { line: 0, startCharacter: 0, endCharacter: 1 };
      const d = new vscode.Diagnostic(
        new vscode.Range(r.line, r.startCharacter, r.line, r.endCharacter),
        f.fix ? `${message}\nFix: ${f.fix}` : message,
        severityRank(f.severity) as vscode.DiagnosticSeverity,
      );
      d.source = 'NormScope';
      d.code = { value: f.kind, target: this.findingsDoc.with({ fragment: findingDocAnchor(f.kind) }) };
      if (links.length) d.relatedInformation = links.map((l) => new vscode.DiagnosticRelatedInformation(location(l.source), l.message));
      diagnostics.push(d);
    };
    for (const f of this.findings(file)) {
      const related = (f.related ?? []).filter((r): r is RelatedLocation & { source: SourceLocation } => !!r.source);
      if (!f.source || f.source.file === file) add(f, f.message, related);
      // Also on each related line (the layer feeding a dead ReLU), linked back to the finding's own line.
      for (const r of related.filter((r) => r.source.file === file))
        add({ ...f, source: r.source }, r.message, f.source ? [{ source: f.source, message: f.message }] : []);
    }
    this.collection.set(uri, diagnostics);
  }
}

/** The files a finding is shown in: its own and its related places'. */
function findingFiles(f: Finding): string[] {
  return [f.source?.file, ...(f.related ?? []).map((r) => r.source?.file)].filter((file): file is string => !!file);
}

function location(source: SourceLocation): vscode.Location {
  const at = new vscode.Position(Math.max(0, source.line - 1), Math.max(0, source.column - 1));
  return new vscode.Location(vscode.Uri.file(source.file), at);
}
