/**
 * Follow: a user's own training run, read from its run log as it is written (src/runlog follow), shown like a check
 * run — the panel live, findings and hovers on the lines of the run's layers (its paths mapped onto this workspace,
 * also for a run made on another machine), and a status-bar item: live, "stopped" when the log goes quiet, ended at
 * its end record. One run is followed at a time. docs/follow.md.
 */
import { basename } from 'node:path';
import * as vscode from 'vscode';
import { errorMessage } from '../protocol';
import type { RunEvent } from '../protocol/worker';
import { followRunLog, mapSources, runLogFindings, type RunLog, type RunLogFollower } from '../runlog';
import { boundedReport, RunLogFeed, thinInPlace, FEED_MAX_VALUES } from '../runlog/feed';
import { editorRoot, latestStep, runLiveness, type RunLiveness } from '../runlog/status';
import type { NormScopeContext } from './context';
import { Disposable } from '../host/disposable';
import type { RunResults } from '../host/runResults';

/** Findings scan every kept sample: at most this often, and never more than a fifth of the time. */
const FINDINGS_MS = 1000;
const TICK_MS = 1000;
const POLL_MS = 250;

/** What a follow reports to its listeners (the runs view, the e2e tests through the extension's API). */
export interface FollowState {
  dir: string;
  /** The run's key in RunResults (its folder). */
  file: string;
  liveness: RunLiveness;
  /** Newest step read, -1 before the first. */
  step: number;
  /** Samples sent to the panel so far (grows while the run is written). */
  samplesSent: number;
  findings: number;
}

export interface FollowHost {
  ctx: NormScopeContext;
  results: RunResults;
  /** Delivers an event of the run to the panel (PanelBridge.forward). */
  forward(file: string, event: RunEvent): void;
  /** Opens the panel on `file`'s run. */
  showPanel(file: string): void;
  /** How long without a write makes a run "stopped" (ms). */
  quietMs(): number;
}

export class FollowedRun extends Disposable {
  readonly state: FollowState;
  private readonly follower: RunLogFollower;
  private readonly feed: RunLogFeed;
  private readonly item: vscode.StatusBarItem;
  private readonly ticker: NodeJS.Timeout;
  private findingsAt = 0;
  private findingsCost = 0;
  private ended = false;
  private mapped: { layers: number; root: string } | undefined;
  private readonly changed = this.own(new vscode.EventEmitter<FollowState>());
  readonly onDidChange = this.changed.event;

  constructor(
    private readonly host: FollowHost,
    readonly dir: string,
  ) {
    super();
    this.state = { dir, file: dir, liveness: 'live', step: -1, samplesSent: 0, findings: 0 };
    this.feed = new RunLogFeed(`follow:${dir}`, dir);
    this.item = this.own(vscode.window.createStatusBarItem('normscope.follow', vscode.StatusBarAlignment.Left, 49));
    this.item.name = 'NormScope followed run';
    this.item.command = { command: 'normscope.showFollowed', title: 'Show the followed run' };
    this.item.text = `$(sync~spin) NormScope: opening ${basename(dir)}`;
    this.item.show();
    // A steady 4 polls a second (not one per write: a fast run writes every few ms, and each update refreshes the
    // diagnostics and hovers of the model's files); the panel gets new steps well within a second.
    this.follower = followRunLog(dir, (log) => this.update(log), {
      intervalMs: POLL_MS,
      watch: false,
      unref: true,
      onError: (e) => host.ctx.log.warn(`following ${dir}: ${e.message}`),
    });
    this.ticker = setInterval(() => this.follower.log && this.tick(this.follower.log), TICK_MS);
    this.ticker.unref();
  }

  /** The log as read so far (null before its first line). */
  get log(): RunLog | null {
    return this.follower.log;
  }

  override dispose(): void {
    clearInterval(this.ticker);
    this.follower.close();
    super.dispose();
  }

  /**
   * The local project root the log's paths map onto: a workspace folder (or the recorded root, when none fits); found
   * again when the layer table grows (a later layer's file may decide it), else kept.
   */
  private root(log: RunLog): string {
    if (this.mapped?.layers === log.layers.length) return this.mapped.root;
    const folders = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath);
    this.mapped = { layers: log.layers.length, root: editorRoot(log, folders) ?? log.meta.projectRoot };
    return this.mapped.root;
  }

  private update(log: RunLog): void {
    if (this.ended) return;
    const root = this.root(log);
    const layers = mapSources(log, root);
    const steps = latestStep(log).step + 1;
    const starting = this.feed.needsStart(log);
    const events = this.feed.update(log, layers, steps);
    if (starting) this.host.results.begin(this.feed.runId, this.dir);
    for (const event of events) this.emit(event);
    const run = this.host.results.get(this.dir);
    if (run) {
      run.steps = steps; // a live run's length is what it has written so far
      run.followed = this.dir; // RunResults keeps a check's fields; the panel's replay needs this one too
      // The host keeps a bounded copy (a 500-layer run at every step would grow without end).
      thinInPlace(run.samples, FEED_MAX_VALUES * 2);
    }
    if (starting) this.host.showPanel(this.dir);
    this.findings(log, layers, starting);
    this.tick(log);
  }

  private findings(log: RunLog, layers: ReturnType<typeof mapSources>, force: boolean): void {
    const now = Date.now();
    if (!force && now - this.findingsAt < Math.max(FINDINGS_MS, 5 * this.findingsCost)) return;
    this.findingsAt = now;
    try {
      const event = this.feed.findings(runLogFindings(log, layers, { log: (m) => this.host.ctx.log.warn(m) }));
      this.findingsCost = Date.now() - now;
      if (event) this.emit(event);
    } catch (e) {
      this.host.ctx.log.error(`findings of ${this.dir}: ${errorMessage(e)}`);
    }
  }

  private emit(event: RunEvent): void {
    const run = this.host.results.apply(event);
    if (event.type === 'progress') this.state.samplesSent += event.samples.length;
    if (event.type === 'findings' || event.type === 'done') this.state.findings = run?.findings.length ?? this.state.findings;
    this.host.forward(this.dir, event);
  }

  /** Liveness, the status bar, and the end: the report once the end record is read. */
  private tick(log: RunLog): void {
    if (this.ended) return;
    const liveness = runLiveness(log, { quietMs: this.host.quietMs() });
    const { step } = latestStep(log);
    this.state.liveness = liveness;
    this.state.step = step;
    const name = basename(this.dir);
    if (liveness === 'ended') {
      this.ended = true;
      this.follower.close();
      try {
        this.emit({ type: 'done', runId: this.feed.runId, report: boundedReport(log, this.root(log)) });
      } catch (e) {
        this.host.ctx.log.error(`report of ${this.dir}: ${errorMessage(e)}`);
      }
      const how = log.end?.reason === 'closed' ? 'ended' : `ended (${log.end?.reason})`;
      this.item.text = `$(check) NormScope: ${name} ${how} · ${step + 1} steps · ${plural(this.state.findings, 'finding')}`;
      this.item.tooltip = `${log.dir}\n${log.end?.message ?? ''}`;
    } else if (liveness === 'stopped') {
      this.item.text = `$(debug-pause) NormScope: ${name} stopped at step ${step}`;
      this.item.tooltip = `No write to ${log.dir} for ${Math.round((Date.now() - log.lastWriteTime) / 1000)} s (killed, paused, or its process is gone). Following resumes if it writes again.`;
    } else {
      this.item.text = `$(pulse) NormScope: ${name} step ${step} · ${plural(this.state.findings, 'finding')}`;
      this.item.tooltip = `Following ${log.dir} (${log.meta.engine} on ${log.meta.host}, pid ${log.meta.pid}); click to show the panel`;
    }
    this.changed.fire(this.state);
  }
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
