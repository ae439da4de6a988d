/** Hover on a layer call: what the layer is and, after a run, its live numbers and findings. */
import * as vscode from 'vscode';
import { analysis } from './analysis';
import type { DocumentIndex } from './documentIndex';
import { buildLayerHover } from './hoverMarkdown';
import type { RunResults } from '../host/runResults';

export class LayerHoverProvider implements vscode.HoverProvider {
  constructor(
    private readonly index: DocumentIndex,
    private readonly results: RunResults,
  ) {}

  provideHover(doc: vscode.TextDocument, position: vscode.Position): vscode.Hover | undefined {
    if (!this.index.mayDefineModel(doc)) return undefined;
    const parsed = this.index.get(doc);
    const call = analysis().layerCallAt(parsed.calls, doc.offsetAt(position));
    if (!call) return undefined;
    const file = doc.uri.fsPath;
    const run = this.results.runAtLine(file, call.line);
    const instances = this.results.layersAtLine(file, call.line);
    const names = new Set(instances.map((s) => s.layer.name));
    const findings = (run?.findings ?? []).filter(
      (f) => (f.layer !== null && names.has(f.layer)) || (f.step === null && f.source?.line === call.line),
    );
    const runStatus = run
      ? `${run.status}${run.samples.length ? ` · step ${run.samples[run.samples.length - 1].step + 1}/${run.steps}` : ''}${run.backend ? ` · backend ${run.backend.name}` : ''}`
      : undefined;
    const md = new vscode.MarkdownString(
      buildLayerHover({ file, callee: call.factory, className: call.className, isNorm: call.isNorm, instances, findings, runStatus }),
      true,
    );
    md.isTrusted = { enabledCommands: ['normscope.focusLayer', 'normscope.swapNorm'] };
    return new vscode.Hover(md, new vscode.Range(doc.positionAt(call.calleeStart), doc.positionAt(call.calleeEnd)));
  }
}
