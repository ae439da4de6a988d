/**
 * The training-health webview panel on the extension side: one panel, a birpc channel to the
 * webview (src/protocol/webview.ts), and the state a reloaded webview needs. The panel does not
 * retain its context when hidden (cheaper); instead the webview keeps its UI state with
 * getState/setState and the host replays the run through `ready()`.
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
import { EXPORT_FILTERS, exportBytes } from './exportBytes';
import { makeNonce, renderPanelHtml } from './html';
import { PanelReplayState } from './replayState';

/** Replayed samples go in messages of about this many numbers (≈ 2 MB of JSON). */
const REPLAY_CHUNK_VALUES = 200_000;

/** What the rest of the extension does for the panel. */
export interface PanelHostHandlers {
  /** Open the layer's source line; false when the layer has no source location. */
  revealLayer(runId: string, layerIndex: number): Promise<boolean>;
  /** Apply a comparison candidate's norm to the source. */
  applyCandidate(norm: NormKind): Promise<boolean>;
}

export class HealthPanel {
  static readonly viewType = 'normscope.trainingHealth';
  /** The open panel, if any. */
  static current: HealthPanel | undefined;
  /** Shared by every panel instance, so closing and reopening the panel still shows the latest run. */
  private static readonly replay = new PanelReplayState();

  private readonly rpc: Channel<PanelFunctions, PanelHostFunctions>;
  private readonly disposeEmitter = new vscode.EventEmitter<void>();
  private readonly disposables: vscode.Disposable[] = [];
  /** True between the webview's `ready()` and it being hidden (then VS Code destroys it). */
  private webviewReady = false;
  private readyWaiters: (() => void)[] = [];
  /** One-shot actions posted while no webview was loaded; sent right after the next `ready()`. */
  private pending: PanelMessage[] = [];
  readonly onDidDispose: vscode.Event<void> = this.disposeEmitter.event;

  /**
   * Show the panel (create it, or reveal the existing one where it is). With `preserveFocus` (a run started from
   * the editor) it goes beside the active editor and the editor keeps the keyboard and stays visible.
   */
  static show(extensionUri: vscode.Uri, host: PanelHostHandlers, preserveFocus = false): HealthPanel {
    const existing = HealthPanel.current;
    if (existing) {
      existing.host = host;
      existing.panel.reveal(preserveFocus ? vscode.ViewColumn.Beside : undefined, preserveFocus);
      return existing;
    }
    const where = { viewColumn: vscode.ViewColumn.Beside, preserveFocus };
    const panel = vscode.window.createWebviewPanel(
      HealthPanel.viewType,
      'NormScope: Training Health',
      where,
      HealthPanel.options(extensionUri),
    );
    HealthPanel.current = new HealthPanel(panel, extensionUri, host);
    return HealthPanel.current;
  }

  /** Adopt a panel VS Code restored after a window reload (registered as a WebviewPanelSerializer). */
  static revive(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, host: PanelHostHandlers): HealthPanel {
    HealthPanel.current?.dispose();
    panel.webview.options = HealthPanel.options(extensionUri);
    HealthPanel.current = new HealthPanel(panel, extensionUri, host);
    return HealthPanel.current;
  }

  private static options(extensionUri: vscode.Uri): vscode.WebviewPanelOptions & vscode.WebviewOptions {
    return {
      enableScripts: true,
      retainContextWhenHidden: false,
      localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist'), vscode.Uri.joinPath(extensionUri, 'media')],
    };
  }

  /** Record a message for replay and deliver it to the open panel, if any (works with no panel open). */
  static publish(message: PanelMessage): void {
    HealthPanel.replay.record(message);
    HealthPanel.current?.deliver(message);
  }

  private constructor(
    readonly panel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
    private host: PanelHostHandlers,
  ) {
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
    this.disposables.push(
      panel.onDidDispose(() => this.disposed()),
      // Hidden without retained context means the webview is gone; it calls ready() again when shown.
      panel.onDidChangeViewState(() => {
        if (!panel.visible) this.webviewReady = false;
      }),
    );
  }

  /** Send a message to the panel; it is also kept so a reloaded webview gets it through `ready()`. */
  post(message: PanelMessage): void {
    HealthPanel.publish(message);
  }

  /** Show one layer's detail and bring the panel to the front. */
  focusLayer(runId: string, layerIndex: number): void {
    this.post({ type: 'focus-layer', runId, layerIndex });
    this.panel.reveal(undefined, false);
  }

  /** Whether the webview has loaded and asked for its state. */
  get isReady(): boolean {
    return this.webviewReady;
  }

  /** Resolves once the webview has loaded (rejects after `timeoutMs`). */
  whenReady(timeoutMs = PANEL_REQUEST_TIMEOUT_MS): Promise<void> {
    if (this.webviewReady) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`NormScope panel: the webview did not load within ${timeoutMs} ms`)), timeoutMs);
      this.readyWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /**
   * Export without a save dialog: the webview produces the data exactly as its buttons do and it is
   * written to `path`. `chartId` names the chart for PNG (e.g. 'loss', 'depth', 'overview-gradNorm').
   */
  async exportTo(kind: ExportKind, path: string, chartId?: string): Promise<string> {
    await this.whenReady();
    const result = await this.rpc.exportData(kind, chartId);
    if (!result)
      throw new Error(
        `NormScope panel: nothing to export as ${kind} yet (${kind === 'json' ? 'the run has not finished' : 'no run data'})`,
      );
    await vscode.workspace.fs.writeFile(vscode.Uri.file(path), exportBytes(kind, result.data));
    return path;
  }

  dispose(): void {
    this.panel.dispose();
  }

  private deliver(message: PanelMessage): void {
    if (this.webviewReady) {
      this.rpc.receive(message).catch(() => {
        /* the webview went away; it replays on ready() */
      });
    } else if (message.type === 'focus-layer' || message.type === 'compare') {
      this.pending = [...this.pending.filter((m) => m.type !== message.type), message];
    }
  }

  private onReady(): PanelMessage[] {
    this.webviewReady = true;
    const { initial, follow } = HealthPanel.replay.replay(REPLAY_CHUNK_VALUES);
    // After the reply: the rest of the run in chunks, then one-shot actions as live messages
    // (so the webview acts on them, e.g. switches tab). Timers run after the reply is posted.
    const later = [...follow, ...this.pending];
    this.pending = [];
    if (later.length > 0) setTimeout(() => later.forEach((m) => this.deliver(m)), 0);
    for (const wake of this.readyWaiters.splice(0)) wake();
    return initial;
  }

  private disposed(): void {
    if (HealthPanel.current === this) HealthPanel.current = undefined;
    this.webviewReady = false;
    this.rpc.$close();
    for (const d of this.disposables) d.dispose();
    this.disposeEmitter.fire();
    this.disposeEmitter.dispose();
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
