/**
 * Wires the run logs into the editor: the Training Runs view, Follow (one run at a time; from the view, the command
 * palette or a folder given by another command), Stop Following, and the Python package's install command.
 */
import { basename } from 'node:path';
import * as vscode from 'vscode';
import { readSettings } from '../host/settings';
import type { RunEvent } from '../protocol/worker';
import type { NormScopeContext } from './context';
import { Disposable } from '../host/disposable';
import { FollowedRun, type FollowState } from './followRun';
import { installPythonPackage } from './installPython';
import type { RunResults } from '../host/runResults';
import { discoverRuns, RUNS_VIEW, RunLogsView, type RunLogNode } from './runLogsView';

export interface FollowPanel {
  forward(file: string, event: RunEvent): void;
  show(file?: string, preserveFocus?: boolean): void;
}

/** The followed run, if any (the extension's API exposes it to the e2e tests). */
export class FollowManager extends Disposable {
  current: FollowedRun | undefined;
  /** The Training Runs view (the e2e tests read its items). */
  runsView: RunLogsView | undefined;

  constructor(
    private readonly ctx: NormScopeContext,
    private readonly results: RunResults,
    private readonly panel: FollowPanel,
    private readonly onChange: () => void,
  ) {
    super();
  }

  get state(): FollowState | undefined {
    return this.current?.state;
  }

  follow(dir: string): FollowedRun {
    this.stop();
    this.ctx.log.info(`following the run log ${dir}`);
    const run = new FollowedRun(
      {
        ctx: this.ctx,
        results: this.results,
        forward: (file, e) => this.panel.forward(file, e),
        showPanel: (file) => this.panel.show(file, true),
        quietMs: () => readSettings(vscode.workspace.getConfiguration('normscope')).runQuietSeconds * 1000,
      },
      dir,
    );
    run.onDidChange(() => this.onChange());
    this.current = run;
    return run;
  }

  stop(): boolean {
    if (!this.current) return false;
    this.current.dispose();
    this.current = undefined;
    return true;
  }

  override dispose(): void {
    this.stop();
    super.dispose();
  }
}

export function registerFollow(ctx: NormScopeContext, results: RunResults, panel: FollowPanel): FollowManager {
  let following: FollowManager | undefined; // set below; the view asks only once the tree is shown
  const view = ctx.own(new RunLogsView(ctx.log, (dir) => (following?.current?.dir === dir ? following.current.log : null)));
  ctx.own(vscode.window.createTreeView(RUNS_VIEW, { treeDataProvider: view }));
  const manager = (following = ctx.own(new FollowManager(ctx, results, panel, () => view.refresh())));
  manager.runsView = view;
  const register = (id: string, fn: (...args: never[]) => unknown) => ctx.own(vscode.commands.registerCommand(id, fn));

  register('normscope.followRun', async (arg?: RunLogNode | vscode.Uri | string) => {
    const dir = typeof arg === 'string' ? arg : arg instanceof vscode.Uri ? arg.fsPath : (arg?.dir ?? (await pickRun()));
    if (!dir) return undefined;
    return manager.follow(dir).state;
  });
  register('normscope.stopFollowing', () => {
    if (!manager.stop()) void vscode.window.showInformationMessage('NormScope: no run is being followed.');
  });
  register('normscope.showFollowed', () => {
    const state = manager.state;
    if (state) panel.show(state.file);
    else void vscode.commands.executeCommand('normscope.followRun');
  });
  register('normscope.refreshRuns', () => view.refresh());
  register('normscope.installPythonPackage', (uri?: vscode.Uri) => installPythonPackage(ctx, uri));
  return manager;
}

/** Asks which run to follow (newest first); undefined when there is none or the user cancels. */
async function pickRun(): Promise<string | undefined> {
  const dirs = discoverRuns();
  if (dirs.length === 0) {
    void vscode.window.showInformationMessage(
      'NormScope: no runs under .normscope/runs in this workspace. Record one with normscope.watch(model, optimizer) (PyTorch) or normscopeCallback() (TensorFlow.js); see docs/follow.md.',
    );
    return undefined;
  }
  const pick = await vscode.window.showQuickPick(
    dirs.map((dir) => ({ label: basename(dir), description: vscode.workspace.asRelativePath(dir), dir })),
    { title: 'NormScope: follow which run?' },
  );
  return pick?.dir;
}
