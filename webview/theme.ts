/**
 * Colours for canvases, read from the VS Code theme's CSS variables (with neutral fallbacks
 * for a plain browser). VS Code swaps the body class and variables on a theme change; `watchTheme`
 * re-reads them then.
 */
import type { Severity } from '../src/protocol';

export interface Theme {
  kind: 'light' | 'dark' | 'high-contrast' | 'high-contrast-light';
  foreground: string;
  muted: string;
  grid: string;
  background: string;
  severity: Record<Severity, string>;
  neutralBar: string;
  /** Line width multiplier (high contrast themes draw thicker lines). */
  lineScale: number;
}

function cssVar(style: CSSStyleDeclaration, name: string, fallback: string): string {
  const v = style.getPropertyValue(name).trim();
  return v || fallback;
}

export function readTheme(): Theme {
  const body = document.body.classList;
  const kind: Theme['kind'] = body.contains('vscode-high-contrast-light') ? 'high-contrast-light'
    : body.contains('vscode-high-contrast') ? 'high-contrast'
      : body.contains('vscode-light') ? 'light'
        : body.contains('vscode-dark') ? 'dark'
          : window.matchMedia?.('(prefers-color-scheme: light)').matches ? 'light' : 'dark';
  const dark = kind === 'dark' || kind === 'high-contrast';
  const style = getComputedStyle(document.body);
  return {
    kind,
    foreground: cssVar(style, '--vscode-foreground', dark ? '#cccccc' : '#333333'),
    muted: cssVar(style, '--vscode-descriptionForeground', dark ? '#9d9d9d' : '#6f6f6f'),
    grid: cssVar(style, '--vscode-editorWidget-border', dark ? '#454545' : '#c8c8c8'),
    background: cssVar(style, '--vscode-editor-background', dark ? '#1e1e1e' : '#ffffff'),
    severity: {
      error: cssVar(style, '--vscode-editorError-foreground', dark ? '#f14c4c' : '#e51400'),
      warning: cssVar(style, '--vscode-editorWarning-foreground', dark ? '#cca700' : '#bf8803'),
      info: cssVar(style, '--vscode-editorInfo-foreground', dark ? '#3794ff' : '#1a85ff'),
    },
    neutralBar: cssVar(style, '--vscode-charts-lines', dark ? 'rgba(160,160,160,0.55)' : 'rgba(110,110,110,0.45)'),
    lineScale: kind.startsWith('high-contrast') ? 2 : 1,
  };
}

export function isDark(theme: Theme): boolean {
  return theme.kind === 'dark' || theme.kind === 'high-contrast';
}

/** Call `onChange` when VS Code switches theme (it rewrites the body class). */
export function watchTheme(onChange: () => void): void {
  new MutationObserver(onChange).observe(document.body, { attributes: true, attributeFilter: ['class'] });
}
