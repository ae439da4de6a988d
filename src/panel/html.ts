/**
 * The panel's HTML page, built without reading files (no vscode import; unit-tested).
 * Strict CSP: nothing loads except our own script (by nonce) and stylesheet, images only from the
 * extension or data: URLs (PNG export), and no remote sources at all.
 */
import { randomBytes } from 'node:crypto';

export interface PanelHtmlOptions {
  /** `webview.cspSource` — the origin VS Code serves local resources from. */
  cspSource: string;
  nonce: string;
  /** `webview.asWebviewUri(...)` of dist/webview.js and media/panel.css, as strings. */
  scriptUri: string;
  styleUri: string;
}

/** A fresh nonce per page load (base64 of 16 random bytes, as CSP requires). */
export function makeNonce(): string {
  return randomBytes(16).toString('base64');
}

/** Escape a value for a double-quoted HTML attribute. */
export function escapeAttribute(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  if (!/^[A-Za-z0-9+/=]+$/.test(nonce)) throw new Error(`NormScope panel: invalid CSP nonce '${nonce}' (base64 expected)`);
  // cspSource is a source list such as "'self' https://*.vscode-cdn.net": quotes are fine, separators are not.
  if (/[;"\r\n,]/.test(cspSource) || cspSource.trim() === '') {
    throw new Error(`NormScope panel: invalid webview.cspSource '${cspSource}'`);
  }
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src ${cspSource}`,
    `img-src ${cspSource} data:`,
    `font-src ${cspSource}`,
    "connect-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

export function renderPanelHtml(options: PanelHtmlOptions): string {
  const csp = contentSecurityPolicy(options.cspSource, options.nonce);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeAttribute(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${escapeAttribute(options.styleUri)}">
<title>NormScope: Training Health</title>
</head>
<body>
<main id="app" data-testid="app"></main>
<script nonce="${escapeAttribute(options.nonce)}" src="${escapeAttribute(options.scriptUri)}"></script>
</body>
</html>
`;
}
