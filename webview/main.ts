/**
 * Webview entry (bundled to dist/webview.js). Opens the birpc channel to the extension host,
 * builds the panel, and asks the host for everything to show (`ready`) — on first load and
 * whenever VS Code recreates the hidden webview. UI state (tab, layer) lives in `setState`.
 */
import { PANEL_REQUEST_TIMEOUT_MS, openChannel, type PanelFunctions, type PanelHostFunctions, type PanelMessage } from '../src/protocol';
import { App, type UiState } from './app';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

function start(): void {
  const vscode = acquireVsCodeApi();
  const root = document.getElementById('app') ?? document.body;
  // eslint-disable-next-line prefer-const -- assigned after `local` below, which must capture it first
  let app: App | undefined;
  const queued: PanelMessage[] = [];
  const local: PanelFunctions = {
    receive: (message) => {
      if (app) app.receive(message);
      else queued.push(message);
    },
    exportData: async (kind, chartId) => {
      if (!app) throw new Error('NormScope panel: not loaded yet');
      return app.exportData(kind, chartId);
    },
  };
  const host = openChannel<PanelHostFunctions, PanelFunctions>(
    local,
    {
      post: (message) => vscode.postMessage(message),
      listen: (handler) => {
        const onMessage = (event: MessageEvent) => {
          // Only birpc envelopes from the host; anything else posted into the frame is ignored.
          if (event.data && typeof event.data === 'object' && 't' in event.data) handler(event.data);
        };
        window.addEventListener('message', onMessage);
        return () => window.removeEventListener('message', onMessage);
      },
    },
    { timeoutMs: PANEL_REQUEST_TIMEOUT_MS },
  );

  const saved = (vscode.getState() ?? undefined) as Partial<UiState> | undefined;
  app = new App(root, host, (state) => vscode.setState(state), saved);
  for (const message of queued.splice(0)) app.receive(message);
  host.ready().then(
    (messages) => {
      for (const message of messages) app!.receive(message, false);
    },
    (error: unknown) => console.error('NormScope panel: the extension did not answer ready()', error),
  );
}

start();
