/**
 * The training-health webview panel on the extension side: one webview and its birpc channel
 * (src/protocol/webview.ts). The panel does not retain its context when hidden (cheaper); instead the
 * webview keeps its UI state with getState/setState and the host replays the run through `ready()`
 * from the replay state, which PanelBridge owns (it outlives any one panel).
 */
import * as os from 'node:os';
import * as vscode from 'vscode';
import {
  PANEL_REQUEST_TIMEOUT_MS,
  openChannel,
  type Channel,
  type ExportKind,
  type NormKind,
  type PanelFunctions,
  type PanelHostFunctions,
  type PanelMessage,
} from '../protocol';
import { Disposable, toDisposable } from '../host/disposable';
import { EXPORT_FILTERS, exportBytes } from './exportBytes';
import { makeNonce, renderPanelHtml } from './html';
import type { PanelReplayState } from './replayState';

/** Replayed samples go in messages of about this many numbers (≈ 2 MB of JSON). */
const REPLAY_CHUNK_VALUES = 200_000;

/** What the rest of the extension does for the panel. */
export interface PanelHostHandlers {
  /** Open the layer's source line; false when the layer has no source location. */
  revealLayer(runId: string, layerIndex: number): Promise<boolean>;
  /** Apply a candidate of the comparison the panel shows to the source. */
  applyCandidate(norm: NormKind): Promise<boolean>;
}

export class HealthPanel extends Disposable {
  static readonly viewType = 'normscope.trainingHealth';

  private readonly rpc: Channel<PanelFunctions, PanelHostFunctions>;
  private readonly disposeEmitter = this.own(new vscode.EventEmitter<void>());
  /** True between the webview's `ready()` and it being hidden (then VS Code destroys it). */
  private webviewReady = false;
  /** One-shot actions posted while no webview was loaded; sent right after the next `ready()`. */
  private pending: PanelMessage[] = [];
  readonly onDidDispose: vscode.Event<void> = this.disposeEmitter.event;

  /** A new panel beside the active editor; with `preserveFocus` (a run started from the editor) the editor keeps the keyboard. */
  static create(extensionUri: vscode.Uri, host: PanelHostHandlers, replay: PanelReplayState, preserveFocus: boolean): HealthPanel {
    const where = { viewColumn: vscode.ViewColumn.Beside, preserveFocus };
    const panel = vscode.window.createWebviewPanel(
      HealthPanel.viewType,
      'NormScope: Training Health',
      where,
      HealthPanel.options(extensionUri),
    );
    return new HealthPanel(panel, extensionUri, host, replay);
  }

  /** Adopt a panel VS Code restored after a window reload (registered as a WebviewPanelSerializer). */
  static revive(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, host: PanelHostHandlers, replay: PanelReplayState): HealthPanel {
    panel.webview.options = HealthPanel.options(extensionUri);
    return new HealthPanel(panel, extensionUri, host, replay);
  }

  private static options(extensionUri: vscode.Uri): vscode.WebviewPanelOptions & vscode.WebviewOptions {
    return {
      enableScripts: true,
      retainContextWhenHidden: false,
      localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist'), vscode.Uri.joinPath(extensionUri, 'media')],
    };
  }

  private constructor(
    readonly panel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
    private readonly host: PanelHostHandlers,
    /** What a freshly loaded webview is rebuilt from (owned by PanelBridge). */
    private readonly replay: PanelReplayState,
  ) {
    super();
    const webview = panel.webview;
    panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'normscope.svg');
    webview.html = renderPanelHtml({
      cspSource: webview.cspSource,
      nonce: makeNonce(),
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview.js')).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', 'panel.css')).toString(),
    });
    const local: PanelHostFunctions = {
      ready: async () => this.onReady(),
      revealLayer: (runId, layerIndex) => this.host.revealLayer(runId, layerIndex),
      applyCandidate: (norm) => this.host.applyCandidate(norm),
      saveExport: (kind, suggestedName, data) => saveWithDialog(kind, suggestedName, data),
    };
    this.rpc = openChannel<PanelFunctions, PanelHostFunctions>(
      local,
      {
        post: (message) => {
          void webview.postMessage(message);
        },
        listen: (handler) => {
          const sub = webview.onDidReceiveMessage(handler);
          return () => sub.dispose();
        },
      },
      { timeoutMs: PANEL_REQUEST_TIMEOUT_MS, eventNames: ['receive'] },
    );
    this.own(toDisposable(() => this.rpc.$close()));
    // The user closed the panel (or dispose() below did): release everything, then tell the owner.
    this.own(panel.onDidDispose(() => this.closed()));
    // Hidden without retained context means the webview is gone; it calls ready() again when shown.
    this.own(
      panel.onDidChangeViewState(() => {
        if (!panel.visible) this.webviewReady = false;
      }),
    );
  }

  /** Bring the panel to the front (or, with `preserveFocus`, beside the editor without taking the keyboard). */
  reveal(preserveFocus = false): void {
    this.panel.reveal(preserveFocus ? vscode.ViewColumn.Beside : undefined, preserveFocus);
  }

  /** Send a message to the loaded webview; one-shot actions wait for the next `ready()` when none is loaded. */
  deliver(message: PanelMessage): void {
    if (this.webviewReady) {
      this.rpc.receive(message).catch(() => {
        /* the webview went away; it replays on ready() */
      });
    } else if (message.type === 'focus-layer' || message.type === 'compare') {
      this.pending = [...this.pending.filter((m) => m.type !== message.type), message];
    }
  }

  override dispose(): void {
    this.panel.dispose(); // fires onDidDispose → closed(); called again in case it did not yet
    this.closed();
  }

  private onReady(): PanelMessage[] {
    this.webviewReady = true;
    const { initial, follow } = this.replay.replay(REPLAY_CHUNK_VALUES);
    // After the reply: the rest of the run in chunks, then one-shot actions as live messages
    // (so the webview acts on them, e.g. switches tab). Timers run after the reply is posted.
    const later = [...follow, ...this.pending];
    this.pending = [];
    if (later.length > 0) setTimeout(() => later.forEach((m) => this.deliver(m)), 0);
    return initial;
  }

  private closed(): void {
    if (this.isDisposed) return;
    this.webviewReady = false;
    this.disposeEmitter.fire();
    super.dispose();
  }
}

/** Ask where to save, then write; null when the user cancels. */
async function saveWithDialog(kind: ExportKind, suggestedName: string, data: string): Promise<string | null> {
  const bytes = exportBytes(kind, data);
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri ?? vscode.Uri.file(os.homedir());
  const safeName = suggestedName.replace(/[\\/:*?"<>|]/g, '_') || `normscope.${kind}`;
  const uri = await vscode.window.showSaveDialog({
    defaultUri: vscode.Uri.joinPath(folder, safeName),
    filters: EXPORT_FILTERS[kind],
    saveLabel: 'Export',
  });
  if (!uri) return null;
  await vscode.workspace.fs.writeFile(uri, bytes);
  return uri.fsPath;
}
