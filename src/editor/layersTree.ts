/**
 * The Layers view: each run file → its layers with a status icon (ok/warn/error), their latest stats as
 * description; clicking a layer reveals its source line and focuses it in the panel.
 */
import * as vscode from 'vscode';
import type { Finding, Severity } from '../protocol/run';
import { formatNumber } from './hoverMarkdown';
import type { FileRun, RunResults } from '../host/runResults';
import { runSummary } from './summary';
import { Disposable, toDisposable } from '../host/disposable';

export type LayersTreeNode = { kind: 'run'; file: string } | { kind: 'layer'; file: string; index: number };

const ICONS: Record<Severity | 'ok', vscode.ThemeIcon> = {
  error: new vscode.ThemeIcon('error', new vscode.ThemeColor('problemsErrorIcon.foreground')),
  warning: new vscode.ThemeIcon('warning', new vscode.ThemeColor('problemsWarningIcon.foreground')),
  info: new vscode.ThemeIcon('info', new vscode.ThemeColor('problemsInfoIcon.foreground')),
  ok: new vscode.ThemeIcon('pass', new vscode.ThemeColor('testing.iconPassed')),
};

/** Worst severity among a layer's findings, or 'ok'. */
export function layerStatus(findings: readonly Finding[]): Severity | 'ok' {
  if (findings.some((f) => f.severity === 'error')) return 'error';
  if (findings.some((f) => f.severity === 'warning')) return 'warning';
  return findings.length ? 'info' : 'ok';
}

export class LayersTreeProvider extends Disposable implements vscode.TreeDataProvider<LayersTreeNode>, vscode.Disposable {
  private readonly changed = this.own(new vscode.EventEmitter<LayersTreeNode | undefined>());
  readonly onDidChangeTreeData = this.changed.event;
  private pending: NodeJS.Timeout | undefined;

  constructor(private readonly results: RunResults) {
    super();
    this.own(toDisposable(() => clearTimeout(this.pending)));
    // Progress events arrive many times a second; redraw the tree at most 4 times a second.
    this.own(
      toDisposable(
        results.onDidChange(() => {
          this.pending ??= setTimeout(() => {
            this.pending = undefined;
            this.changed.fire(undefined);
          }, 250);
        }),
      ),
    );
  }

  getChildren(node?: LayersTreeNode): LayersTreeNode[] {
    if (!node) return this.results.all().map((r) => ({ kind: 'run', file: r.file }));
    if (node.kind === 'run')
      return (this.results.get(node.file)?.layers ?? []).map((l) => ({ kind: 'layer', file: node.file, index: l.index }));
    return [];
  }

  getParent(node: LayersTreeNode): LayersTreeNode | undefined {
    return node.kind === 'layer' ? { kind: 'run', file: node.file } : undefined;
  }

  getTreeItem(node: LayersTreeNode): vscode.TreeItem {
    const run = this.results.get(node.file);
    if (node.kind === 'run' || !run) {
      const item = new vscode.TreeItem(vscode.workspace.asRelativePath(node.file), vscode.TreeItemCollapsibleState.Expanded);
      item.id = `run:${node.file}`;
      item.description = run ? runSummary(run).replace(/\$\([^)]*\)\s*/g, '') : '';
      item.resourceUri = vscode.Uri.file(node.file);
      item.iconPath = run?.status === 'failed' ? ICONS.error : vscode.ThemeIcon.File;
      item.contextValue = 'normscope.run';
      return item;
    }
    return layerItem(run, node.index);
  }
}

function layerItem(run: FileRun, index: number): vscode.TreeItem {
  const layer = run.layers[index];
  const findings = run.findings.filter((f) => f.layer === layer.name);
  const status = layerStatus(findings);
  const item = new vscode.TreeItem(layer.name, vscode.TreeItemCollapsibleState.None);
  item.id = `layer:${run.file}:${index}`;
  item.iconPath = ICONS[status];
  const last = run.samples[run.samples.length - 1];
  const stat = (name: string) => {
    const col = run.statNames.indexOf(name as never);
    const v = last && col >= 0 ? last.values[index * run.statNames.length + col] : null;
    return typeof v === 'number' ? v : NaN;
  };
  const parts = [layer.className];
  if (last)
    parts.push(`mean ${formatNumber(stat('mean'))}`, `var ${formatNumber(stat('variance'))}`, `grad ${formatNumber(stat('gradNorm'))}`);
  item.description = parts.join(' · ');
  item.tooltip = new vscode.MarkdownString(
    [`**${layer.name}** (${layer.className}) — ${status}`, ...findings.map((f) => `- ${f.kind}: ${f.message}`)].join('\n\n'),
  );
  item.accessibilityInformation = { label: `${layer.name}, ${layer.className}, status ${status}` };
  item.contextValue = 'normscope.layer';
  item.command = { command: 'normscope.revealLayer', title: 'Reveal layer', arguments: [run.file, index] };
  return item;
}
