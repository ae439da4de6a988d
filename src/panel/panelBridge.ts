/**
 * Owns the training-health panel and everything it shows: the one open HealthPanel (if any) and the replay
 * state that outlives it, so closing and reopening the panel still shows the latest run and comparison.
 * Feeds it from worker events and answers its requests (reveal a layer's line, apply a compared norm).
 * Translating RunEvent → PanelMessage lives in one pure function (panelMessages.ts) so it is unit-tested.
 */
import * as vscode from 'vscode';
import type { NormKind } from '../protocol/run';
import type { PanelMessage } from '../protocol/webview';
import type { RunEvent } from '../protocol/worker';
import { NORM_SPECS } from '../refactor/normKinds';
import { Disposable, toDisposable } from '../host/disposable';
import type { PanelView } from '../host/panelView';
import type { FileRun, RunResults } from '../host/runResults';
import { HealthPanel, type PanelHostHandlers } from './healthPanel';
import { replay, toPanelMessage } from './panelMessages';
import { PanelReplayState } from './replayState';

/** Rewrites the normalization at `line` of `file` to `norm` (the swap refactor); false when nothing changed. */
export type ApplyNorm = (file: string, line: number, norm: NormKind) => Promise<boolean>;

export class PanelBridge extends Disposable implements PanelView {
  private panel: HealthPanel | undefined;
  /** What the panel shows; recorded even while no panel is open. */
  private readonly state = new PanelReplayState();

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly results: RunResults,
    private readonly applyNorm: ApplyNorm,
  ) {
    super();
    this.own(toDisposable(() => this.panel?.dispose()));
  }

  /** What the panel asks of the editor. */
  private readonly handlers: PanelHostHandlers = {
    revealLayer: async (runId, index) =>
      this.revealLayer(
        this.results.all().find((r) => r.runId === runId),
        index,
      ),
    applyCandidate: (norm) => this.applyCandidate(norm),
  };

  /** Restores the panel after a window reload (it shows what this bridge has, empty until the next run). */
  readonly serializer: vscode.WebviewPanelSerializer = {
    deserializeWebviewPanel: async (panel) => {
      this.panel?.dispose();
      this.adopt(HealthPanel.revive(panel, this.extensionUri, this.handlers, this.state));
    },
  };

  /** Open (or reveal) the panel, showing the latest run of `file` or of any file. */
  show(file?: string, preserveFocus = false): void {
    if (this.panel) this.panel.reveal(preserveFocus);
    else this.adopt(HealthPanel.create(this.extensionUri, this.handlers, this.state, preserveFocus));
    // The panel replays the latest published run by itself; another file's run is published again.
    const run = file ? this.results.get(file) : undefined;
    if (run && run.runId !== this.state.runId) for (const m of replay(run)) this.publish(m);
  }

  /** Record a message for replay and deliver it to the open panel, if any. */
  publish(message: PanelMessage): void {
    this.state.record(message);
    this.panel?.deliver(message);
  }

  /** Forward one worker event of `file`'s run to the panel. */
  forward(file: string, event: RunEvent): void {
    const message = toPanelMessage(event, this.results.get(file)?.backend);
    if (message) this.publish(message);
  }

  /** Focus a layer in the panel (tree selection, hover link) and bring the panel to the front. */
  focusLayer(file: string, index: number): void {
    const run = this.results.get(file);
    if (!run) return;
    this.show(file, true);
    this.publish({ type: 'focus-layer', runId: run.runId, layerIndex: index });
    this.panel?.reveal();
  }

  /** Apply a candidate of the comparison the panel shows: swap the compared line's norm to `norm`. */
  async applyCandidate(norm: string): Promise<boolean> {
    const comparison = this.state.compareResult;
    if (!comparison || !(norm in NORM_SPECS)) return false;
    return this.applyNorm(comparison.file, comparison.line, norm as NormKind);
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

  private adopt(panel: HealthPanel): void {
    this.panel = panel;
    panel.onDidDispose(() => {
      if (this.panel === panel) this.panel = undefined;
    });
  }
}
