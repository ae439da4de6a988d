/**
 * One-click refactors: quick fixes on NormScope findings and refactor actions on any layer call
 * (swap norms, insert/remove a norm, weight norm, pre-norm). Each applies as one undoable WorkspaceEdit.
 */
import * as vscode from 'vscode';
import type { RefactorAction, RefactorResult } from '../refactor';
import { analysis } from './analysis';
import type { Finding } from '../protocol/run';
import type { DocumentIndex } from './documentIndex';
import { errorMessage } from '../protocol';

async function exists(uri: vscode.Uri): Promise<boolean> {
  try {
    await vscode.workspace.fs.stat(uri);
    return true;
  } catch {
    return false;
  }
}

/** Turn a refactor result into one WorkspaceEdit (text edits plus files created next to the model). */
export async function toWorkspaceEdit(doc: vscode.TextDocument, result: RefactorResult): Promise<vscode.WorkspaceEdit> {
  const edit = new vscode.WorkspaceEdit();
  const dir = vscode.Uri.joinPath(doc.uri, '..');
  const meta = { label: result.description, needsConfirmation: false };
  for (const file of result.extraFiles) {
    // ifExists 'keep': the user may have edited an earlier copy; never overwrite it. Created as an empty
    // file plus an insert (rather than `contents`), which every VS Code host revives the same way.
    const uri = vscode.Uri.joinPath(dir, file.path);
    if (await exists(uri)) continue;
    edit.createFile(uri, { ignoreIfExists: true }, meta);
    edit.insert(uri, new vscode.Position(0, 0), file.content, meta);
  }
  for (const e of result.edits) {
    edit.replace(doc.uri, new vscode.Range(doc.positionAt(e.start), doc.positionAt(e.end)), e.newText, meta);
  }
  return edit;
}

class RefactorCodeAction extends vscode.CodeAction {
  constructor(
    title: string,
    kind: vscode.CodeActionKind,
    readonly doc: vscode.TextDocument,
    readonly version: number,
    readonly target: { offset: number } | { line: number },
    readonly refactor: RefactorAction,
  ) {
    super(title, kind);
  }
}

export class NormCodeActionProvider implements vscode.CodeActionProvider<vscode.CodeAction> {
  static readonly kinds = [vscode.CodeActionKind.QuickFix, vscode.CodeActionKind.RefactorRewrite];

  constructor(
    private readonly index: DocumentIndex,
    private readonly findingOf: (uri: vscode.Uri, d: vscode.Diagnostic) => Finding | undefined,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  provideCodeActions(
    doc: vscode.TextDocument,
    range: vscode.Range | vscode.Selection,
    context: vscode.CodeActionContext,
  ): vscode.CodeAction[] {
    const out: vscode.CodeAction[] = [];
    if (!this.index.mayDefineModel(doc)) return out;
    const text = doc.getText();
    const parsed = this.index.get(doc);
    for (const diag of context.diagnostics) {
      const finding = this.findingOf(doc.uri, diag);
      if (!finding?.refactor) continue;
      const target = { offset: doc.offsetAt(diag.range.start) };
      try {
        analysis().applyRefactor(text, doc.fileName, target, finding.refactor, parsed);
      } catch (e) {
        this.log.trace(`no quick fix for ${finding.kind}: ${errorMessage(e)}`);
        continue;
      }
      const action = new RefactorCodeAction(
        `NormScope: ${analysis().titleOf(finding.refactor)}`,
        vscode.CodeActionKind.QuickFix,
        doc,
        doc.version,
        target,
        finding.refactor,
      );
      action.diagnostics = [diag];
      action.isPreferred = true;
      out.push(action);
    }
    if (
      !context.only ||
      context.only.contains(vscode.CodeActionKind.RefactorRewrite) ||
      vscode.CodeActionKind.RefactorRewrite.contains(context.only)
    ) {
      const offers = analysis().availableRefactors(text, doc.fileName, { offset: doc.offsetAt(range.start) }, parsed);
      for (const offered of offers) {
        out.push(
          new RefactorCodeAction(
            `NormScope: ${offered.title}`,
            vscode.CodeActionKind.RefactorRewrite.append('normscope'),
            doc,
            doc.version,
            offered.target as { offset: number },
            offered.action,
          ),
        );
      }
      // On a norm call, also offer the what-if: train each candidate and compare before rewriting anything.
      const norm = offers.find((o) => o.action.action === 'swap')?.call;
      if (norm) {
        const compare = new vscode.CodeAction(
          'NormScope: Compare normalizations…',
          vscode.CodeActionKind.RefactorRewrite.append('normscope'),
        );
        compare.command = { command: 'normscope.compareNorms', title: 'Compare normalizations…', arguments: [doc.uri.fsPath, norm.line] };
        out.push(compare);
      }
    }
    return out;
  }

  async resolveCodeAction(action: vscode.CodeAction): Promise<vscode.CodeAction> {
    if (!(action instanceof RefactorCodeAction) || action.doc.version !== action.version) return action;
    const result = analysis().applyRefactor(
      action.doc.getText(),
      action.doc.fileName,
      action.target,
      action.refactor,
      this.index.get(action.doc),
    );
    action.edit = await toWorkspaceEdit(action.doc, result);
    // A generated helper (norm-layers.js) must be on disk for the model to run; the model file itself stays
    // unsaved like any other edit.
    const created = result.extraFiles.map((f) => vscode.Uri.joinPath(action.doc.uri, '..', f.path));
    if (created.length) action.command = { command: 'normscope.saveFiles', title: 'Save generated files', arguments: created };
    return action;
  }
}
