/**
 * The "Training Runs" view: the run logs under `.normscope/runs` of each workspace folder (and the folder the
 * `normscope.runsFolder` setting names, e.g. where $NORMSCOPE_DIR points), newest first, each with its state
 * (live / stopped / ended), script, steps and findings; refreshed by a file watcher, and every few seconds while a
 * listed run is live. Its inline action follows the run (./followRun). docs/follow.md.
 */
import * as fs from 'node:fs';
import { basename, isAbsolute, join } from 'node:path';
import * as vscode from 'vscode';
import { readSettings } from '../host/settings';
import { errorMessage } from '../protocol';
import { listRuns, readRunLog, type RunLog } from '../runlog';
import { editorRoot, summarizeRun, type RunSummary } from '../runlog/status';
import { Disposable, toDisposable } from '../host/disposable';

export const RUNS_VIEW = 'normscope.runLogs';
const LIVE_REFRESH_MS = 3000;
/** A live run is read again for the view at most this often (reading a big log costs). */
const LIVE_SUMMARY_MS = 5000;

export interface RunLogNode {
  dir: string;
}

const ICONS = {
  live: new vscode.ThemeIcon('pulse', new vscode.ThemeColor('charts.green')),
  stopped: new vscode.ThemeIcon('debug-pause', new vscode.ThemeColor('charts.yellow')),
  ended: new vscode.ThemeIcon('pass'),
  failed: new vscode.ThemeIcon('error', new vscode.ThemeColor('problemsErrorIcon.foreground')),
  findings: new vscode.ThemeIcon('warning', new vscode.ThemeColor('problemsWarningIcon.foreground')),
};

/** The folders runs are looked for in: `.normscope/runs` of each workspace folder, and the setting's folder. */
export function runFolders(): string[] {
  const folders = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath);
  const out = folders.map((f) => join(f, '.normscope', 'runs'));
  const setting = readSettings(vscode.workspace.getConfiguration('normscope')).runsFolder;
  if (setting) out.push(isAbsolute(setting) ? setting : join(folders[0] ?? process.cwd(), setting));
  return [...new Set(out)];
}

/** Every run in those folders, newest first. */
export function discoverRuns(): string[] {
  return runFolders()
    .flatMap((f) => listRuns(f))
    .sort((a, b) => b.started - a.started)
    .map((r) => r.dir);
}

export class RunLogsView extends Disposable implements vscode.TreeDataProvider<RunLogNode> {
  private readonly changed = this.own(new vscode.EventEmitter<RunLogNode | undefined>());
  readonly onDidChangeTreeData = this.changed.event;
  private readonly cache = new Map<string, { at: number; signature: string; summary: RunSummary | { error: string } }>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly log: vscode.LogOutputChannel,
    /** The log of the followed run, read as it is written: the view uses it rather than reading that run again. */
    private readonly followedLog: (dir: string) => RunLog | null = () => null,
  ) {
    super();
    const watcher = this.own(vscode.workspace.createFileSystemWatcher('**/.normscope/runs/*/meta.jsonl'));
    for (const on of [watcher.onDidCreate, watcher.onDidChange, watcher.onDidDelete]) this.own(on(() => this.refreshSoon()));
    this.own(vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration('normscope.runsFolder') && this.refreshSoon()));
    this.own(toDisposable(() => clearTimeout(this.timer)));
  }

  refresh(): void {
    this.changed.fire(undefined);
  }

  private refreshSoon(delay = 200): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.refresh(), delay);
  }

  getChildren(node?: RunLogNode): RunLogNode[] {
    if (node) return [];
    const dirs = discoverRuns();
    if (dirs.some((d) => isLive(this.summary(d)))) this.refreshSoon(LIVE_REFRESH_MS);
    return dirs.map((dir) => ({ dir }));
  }

  getTreeItem(node: RunLogNode): vscode.TreeItem {
    const s = this.summary(node.dir);
    const item = new vscode.TreeItem(basename(node.dir), vscode.TreeItemCollapsibleState.None);
    item.id = `runlog:${node.dir}`;
    item.resourceUri = vscode.Uri.file(node.dir);
    item.command = { command: 'normscope.followRun', title: 'Follow', arguments: [node] };
    if ('error' in s) {
      item.description = 'unreadable';
      item.tooltip = s.error;
      item.iconPath = ICONS.failed;
      item.contextValue = 'normscope.runLog';
      return item;
    }
    const failed = s.endReason !== null && s.endReason !== 'closed';
    const state = s.liveness === 'ended' && failed ? `ended (${s.endReason})` : s.liveness;
    const findings = `${s.findings.length} finding${s.findings.length === 1 ? '' : 's'}`;
    item.description = [state, s.script ? basename(s.script) : null, `${s.steps.toLocaleString('en-US')} steps`, findings]
      .filter(Boolean)
      .join(' · ');
    item.iconPath = failed ? ICONS.failed : s.liveness !== 'ended' ? ICONS[s.liveness] : s.findings.length ? ICONS.findings : ICONS.ended;
    const md = new vscode.MarkdownString(
      [
        `**${basename(node.dir)}** — ${state}`,
        `${s.engine} on ${s.host}, started ${s.started}${s.script ? `, script \`${s.script}\`` : ''}`,
        `${s.steps.toLocaleString('en-US')} steps, ${findings}`,
        ...s.findings
          .slice(0, 8)
          .map((f) => `- ${f.kind}${f.layer ? ` (${f.layer})` : ''}${f.step !== null ? ` from step ${f.step}` : ''}`),
      ].join('\n\n'),
    );
    item.tooltip = md;
    item.contextValue = `normscope.runLog.${s.liveness}`;
    return item;
  }

  /** A run's summary, read again when its files changed (a live one at most every LIVE_SUMMARY_MS). */
  summary(dir: string): RunSummary | { error: string } {
    const signature = filesSignature(dir);
    const cached = this.cache.get(dir);
    const live = cached && isLive(cached.summary);
    if (cached && (live ? Date.now() - cached.at < LIVE_SUMMARY_MS : cached.signature === signature)) return cached.summary;
    let summary: RunSummary | { error: string };
    try {
      const log = this.followedLog(dir) ?? readRunLog(dir);
      const folders = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath);
      summary = summarizeRun(log, editorRoot(log, folders) ?? log.meta.projectRoot);
    } catch (e) {
      summary = { error: errorMessage(e) };
      this.log.warn(`run log ${dir}: ${summary.error}`);
    }
    this.cache.set(dir, { at: Date.now(), signature, summary });
    return summary;
  }
}

/** Names, sizes and times of a run folder's files: what changes when the run writes. */
function filesSignature(dir: string): string {
  try {
    return fs
      .readdirSync(dir)
      .map((n) => {
        const st = fs.statSync(join(dir, n));
        return `${n}:${st.size}:${st.mtimeMs}`;
      })
      .join('|');
  } catch {
    return '';
  }
}

function isLive(summary: RunSummary | { error: string }): boolean {
  return !('error' in summary) && summary.liveness === 'live';
}
