/**
 * Colours for canvases, read from the VS Code theme's CSS variables. VS Code swaps the body
 * class and variables on a theme change; `watchTheme` re-reads them then.
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

/**
 * Reads panel.css's --ns-* properties: they resolve the VS Code variables (set by VS Code on the
 * html element) with the same fallbacks the stylesheet uses, so canvases match the page.
 */
export function readTheme(): Theme {
  const body = document.body.classList;
  const kind: Theme['kind'] = body.contains('vscode-high-contrast-light')
    ? 'high-contrast-light'
    : body.contains('vscode-high-contrast')
      ? 'high-contrast'
      : body.contains('vscode-light')
        ? 'light'
        : 'dark';
  const style = getComputedStyle(document.documentElement);
  return {
    kind,
    foreground: cssVar(style, '--ns-fg', '#cccccc'),
    muted: cssVar(style, '--ns-muted', '#9d9d9d'),
    grid: cssVar(style, '--ns-grid', 'rgba(128, 128, 128, 0.35)'),
    background: cssVar(style, '--ns-bg', '#1e1e1e'),
    severity: {
      error: cssVar(style, '--ns-error', '#f14c4c'),
      warning: cssVar(style, '--ns-warning', '#cca700'),
      info: cssVar(style, '--ns-info', '#3794ff'),
    },
    neutralBar: cssVar(style, '--ns-bar', 'rgba(128, 128, 128, 0.6)'),
    lineScale: kind.startsWith('high-contrast') ? 2 : 1,
  };
}

export function isDark(theme: Theme): boolean {
  return theme.kind === 'dark' || theme.kind === 'high-contrast';
}

/** Call `onChange` when VS Code switches theme (it rewrites the body class and the html style). */
export function watchTheme(onChange: () => void): void {
  const observer = new MutationObserver(onChange);
  observer.observe(document.body, { attributes: true, attributeFilter: ['class'] });
  observer.observe(document.documentElement, { attributes: true, attributeFilter: ['style'] });
}
