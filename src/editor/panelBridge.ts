/**
 * Feeds the training-health panel from worker events and answers its requests (reveal a layer's line).
 * Translating RunEvent → PanelMessage lives in one pure function so it is unit-tested.
 */
import * as vscode from 'vscode';
import type { NormKind } from '../protocol';
import type { RunEvent } from '../protocol/worker';
import { HealthPanel } from '../panel/healthPanel';
import type { NormScopeContext } from './context';
import type { FileRun, RunResults } from './runResults';
import { replay, toPanelMessage } from './panelMessages';

export class PanelBridge {
  private lastPublishedRunId: string | undefined;
  constructor(
    private readonly ctx: NormScopeContext,
    private readonly results: RunResults,
  ) {}

  /** What the panel asks of the editor. */
  private readonly handlers = {
    revealLayer: async (runId: string, index: number) =>
      this.revealLayer(
        this.results.all().find((r) => r.runId === runId),
        index,
      ),
    applyCandidate: async (norm: NormKind) => !!(await vscode.commands.executeCommand<boolean>('normscope.applyCompareCandidate', norm)),
  };

  /** Restores the panel after a window reload (it comes back empty until the next run). */
  readonly serializer: vscode.WebviewPanelSerializer = {
    deserializeWebviewPanel: async (panel) => {
      HealthPanel.revive(panel, this.ctx.extensionUri, this.handlers);
    },
  };

  /** Open (or reveal) the panel, showing the latest run of `file` or of any file. */
  show(file?: string, preserveFocus = false): HealthPanel {
    const panel = HealthPanel.show(this.ctx.extensionUri, this.handlers, preserveFocus);
    // The panel replays the latest published run by itself; another file's run is published again.
    const run = file ? this.results.get(file) : undefined;
    if (run && run.runId !== this.lastPublishedRunId) {
      for (const m of replay(run)) HealthPanel.publish(m);
      this.lastPublishedRunId = run.runId;
    }
    return panel;
  }

  /** Forward one worker event of `file`'s run to the panel if it is open. */
  forward(file: string, event: RunEvent): void {
    const message = toPanelMessage(event, this.results.get(file)?.backend);
    if (!message) return;
    this.lastPublishedRunId = event.runId;
    HealthPanel.publish(message);
  }

  /** Focus a layer in the panel (tree selection, hover link). */
  focusLayer(file: string, index: number): void {
    const run = this.results.get(file);
    if (!run) return;
    this.show(file, true).focusLayer(run.runId, index);
  }

  /** Open the layer's source line. Resolves false when the layer has no source line (e.g. model.json). */
  async revealLayer(run: FileRun | undefined, index: number): Promise<boolean> {
    const source = run?.layers[index]?.source;
    if (!source) return false;
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(source.file));
    const pos = new vscode.Position(source.line - 1, Math.max(0, source.column - 1));
    await vscode.window.showTextDocument(doc, { selection: new vscode.Range(pos, pos), viewColumn: vscode.ViewColumn.One });
    return true;
  }
}
