/**
 * Starts and cancels training runs from the editor: progress notification with a step counter and Cancel,
 * a status-bar item while running, results into RunResults. Runs need a trusted workspace: the model file's
 * code executes in the worker.
 */
import { readFileSync } from 'node:fs';
import * as vscode from 'vscode';
import type { RunOptions, RunReport } from '../protocol/run';
import type { RunEvent } from '../protocol/worker';
import type { NormKind } from '../protocol/run';
import type { CompareResult } from '../protocol/webview';
import { compareNorms } from '../runner/compare';
import { WorkerClient } from '../runner/workerClient';
import { isPythonModel, PythonClient } from '../runner/pythonClient';
import { pythonExtensionInterpreter } from './pythonEditor';
import { pythonNormAtLine } from '../runner/pythonLint';
import { analysis } from './analysis';
import type { NormScopeContext } from './context';
import type { RunResults } from '../host/runResults';
import { landscapeOption, type NormScopeSettings } from '../host/settings';
import { runErrorOf, type LogLevel } from '../protocol';
import { Disposable } from '../host/disposable';

const permissionsOf = (s: NormScopeSettings) => (s.restrictPermissions ? ('restricted' as const) : ('off' as const));

/** The user's project is the workspace folder of the file: a PyTorch layer built by any file in it maps to its line. */
function projectOf(file: string): Pick<RunOptions, 'projectRoot'> {
  const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(file));
  return folder && folder.uri.scheme === 'file' ? { projectRoot: folder.uri.fsPath } : {};
}

/** The run options the settings give every run of `file` (check and compare alike). */
function settingsOptions(file: string, s: NormScopeSettings) {
  return {
    steps: s.steps,
    batchSize: s.batchSize,
    backend: s.backend,
    seed: s.seed,
    samplingInterval: s.samplingInterval,
    thresholds: s.thresholds,
    permissions: permissionsOf(s),
    ...projectOf(file),
    ...landscapeOption(s),
  } satisfies Partial<RunOptions>;
}

export class RunManager extends Disposable implements vscode.Disposable {
  private client: WorkerClient | undefined;
  private python: { key: string; client: PythonClient } | undefined;
  /** Settings the current worker was started with; a change starts a new worker for the next run. */
  private clientKey = '';
  private readonly active = new Map<string, AbortController>();
  private readonly statusItem: vscode.StatusBarItem;
  private nextRunId = 1;
  /** Worker and engine log lines, into the NormScope output channel at their own level. */
  private readonly log = (level: LogLevel, message: string) => this.ctx.log[level](message);

  constructor(
    private readonly ctx: NormScopeContext,
    private readonly results: RunResults,
    private readonly onEvent: (file: string, e: RunEvent) => void,
  ) {
    super();
    this.statusItem = this.own(vscode.window.createStatusBarItem('normscope.run', vscode.StatusBarAlignment.Left, 50));
    this.statusItem.name = 'NormScope run';
    this.statusItem.command = 'normscope.cancelRun';
  }

  get running(): boolean {
    return this.active.size > 0;
  }

  private worker(): WorkerClient {
    const s = this.ctx.settings;
    const key = `${s.maxMemoryMB}/${s.runTimeoutSeconds}`;
    if (!this.client || this.clientKey !== key) {
      this.client?.dispose();
      this.clientKey = key;
      this.client = new WorkerClient({
        workerPath: this.ctx.distPath('worker.js'),
        maxMemoryMB: s.maxMemoryMB,
        runTimeoutMs: s.runTimeoutSeconds * 1000,
        exposedBindings: (file, model) => analysis().exposedBindingsOf(readFileSync(file, 'utf8'), file, model),
        log: this.log,
      });
    }
    return this.client;
  }

  /** PyTorch files run in the Python engine; its interpreter follows normscope.pythonPath, else the Python extension's. */
  private async clientFor(file: string): Promise<WorkerClient | PythonClient> {
    if (!isPythonModel(file)) return this.worker();
    const s = this.ctx.settings;
    const pythonExtension = s.pythonPath ? undefined : await pythonExtensionInterpreter(vscode.Uri.file(file));
    const key = `${s.pythonPath}/${pythonExtension}/${s.runTimeoutSeconds}/${s.maxMemoryMB}`;
    if (this.python?.key !== key) {
      this.python?.client.dispose();
      this.python = {
        key,
        client: new PythonClient({
          enginePath: this.ctx.extension.asAbsolutePath('python'),
          explicit: s.pythonPath || undefined,
          pythonExtension,
          runTimeoutMs: s.runTimeoutSeconds * 1000,
          maxMemoryMB: s.maxMemoryMB,
          scriptInItsFolder: true,
          log: this.log,
        }),
      };
    }
    return this.python.client;
  }

  /** Runs need trust: explain and offer to manage it. Returns false when the workspace is untrusted. */
  private async requireTrust(file: string): Promise<boolean> {
    if (vscode.workspace.isTrusted) return true;
    const choice = await vscode.window.showWarningMessage(
      'NormScope runs your model file to train it, which needs a trusted workspace. Static checks and hovers keep working.',
      'Manage Workspace Trust',
    );
    if (choice) await vscode.commands.executeCommand('workbench.trust.manage');
    this.ctx.log.warn(`refused to run ${file}: workspace is not trusted`);
    return false;
  }

  /**
   * What-if: train the model once per candidate normalization at `line` (the current one first, as the
   * baseline), same data, seed and steps. Resolves undefined when refused or cancelled.
   */
  async compare(
    file: string,
    line: number,
    candidates: NormKind[],
    choice: Pick<RunOptions, 'model' | 'args' | 'pythonArgs'> = {},
    learningRates?: number[] | 'auto',
  ): Promise<CompareResult | undefined> {
    if (!(await this.requireTrust(file))) return undefined;
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(file));
    if (isPythonModel(file) && doc.isDirty) await doc.save();
    const original = isPythonModel(file)
      ? await pythonNormAtLine(file, line, this.ctx.extension.asAbsolutePath('python'), {
          explicit: this.ctx.settings.pythonPath || undefined,
        }).catch(() => undefined)
      : analysis().normAtLine(doc.getText(), file, line);
    if (!original) {
      void vscode.window.showWarningMessage(
        `NormScope: ${vscode.workspace.asRelativePath(file)}:${line} has no normalization call to compare.`,
      );
      return undefined;
    }
    const all = [original, ...candidates.filter((c) => c !== original)];
    const s = this.ctx.settings;
    const rates = learningRates ?? (s.compareLearningRates !== 'off' ? s.compareLearningRates : undefined);
    return vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'NormScope: comparing normalizations', cancellable: true },
      async (progress, token) => {
        const abort = new AbortController();
        token.onCancellationRequested(() => abort.abort());
        const result = await compareNorms(
          await this.clientFor(file),
          {
            file,
            line,
            candidates: all,
            ...settingsOptions(file, s),
            ...choice,
            ...(rates ? { learningRates: rates } : {}),
          },
          (norm, i, event) => {
            if (!event) progress.report({ message: `${norm} (${i + 1}/${all.length})`, increment: 100 / all.length });
          },
          abort.signal,
          (norm, rate) => progress.report({ message: `learning-rate sweep: ${norm} at ${rate}` }),
        );
        for (const c of result.candidates) if (c.norm === original) c.original = true;
        this.ctx.log.info(
          `compare ${file}:${line}: ${result.candidates.map((c) => `${c.norm}=${c.finalLoss ?? c.error ?? 'n/a'}`).join(', ')}`,
        );
        return abort.signal.aborted ? undefined : result;
      },
    );
  }

  /**
   * Run `file` (absolute path): a model file (optionally one builder function with its arguments), or with
   * `script` a training script run with those arguments. Resolves with the report, or undefined when it failed
   * or was refused.
   */
  async check(file: string, choice: Pick<RunOptions, 'model' | 'args' | 'pythonArgs' | 'script'> = {}): Promise<RunReport | undefined> {
    if (!(await this.requireTrust(file))) return undefined;
    this.active.get(file)?.abort();
    const s = this.ctx.settings;
    const runId = `run-${this.nextRunId++}`;
    const abort = new AbortController();
    this.active.set(file, abort);
    this.results.begin(runId, file);
    const name = vscode.workspace.asRelativePath(file);
    this.updateStatus(`$(sync~spin) NormScope: ${name}`);
    this.ctx.log.info(
      `run ${runId}: ${file}${choice.model ? ` ${choice.model}(${choice.pythonArgs ?? (choice.args ? JSON.stringify(choice.args).slice(1, -1) : '')})` : ''} (${s.steps} steps, backend ${s.backend})`,
    );
    try {
      return await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `NormScope: ${name}`, cancellable: true },
        async (progress, token) => {
          token.onCancellationRequested(() => abort.abort());
          let lastStep = 0;
          const report = await (
            await this.clientFor(file)
          ).run(
            {
              file,
              ...settingsOptions(file, s),
              // The user runs their own script on purpose, with their own rights.
              ...(choice.script ? { permissions: 'off' as const } : {}),
              ...choice,
            },
            (event) => {
              const e = { ...event, runId } as RunEvent;
              this.results.apply(e);
              this.onEvent(file, e);
              if (e.type === 'progress' && e.samples.length) {
                const step = e.samples[e.samples.length - 1].step + 1;
                progress.report({
                  message: `step ${step}/${s.steps} · loss ${e.samples[e.samples.length - 1].loss.toPrecision(4)}`,
                  increment: ((step - lastStep) / s.steps) * 100,
                });
                this.updateStatus(`$(sync~spin) NormScope ${step}/${s.steps}`);
                lastStep = step;
              } else if (e.type === 'backend') {
                progress.report({ message: `backend ${e.backend.name}` });
              }
            },
            abort.signal,
          );
          this.ctx.log.info(
            `run ${runId} finished: ${report.findings.length} findings, backend ${report.backend}${report.stoppedEarly ? `, stopped early (${report.stoppedEarly})` : ''}`,
          );
          return report;
        },
      );
    } catch (e) {
      const error = runErrorOf(e);
      this.results.fail(runId, error);
      if (error.code === 'cancelled') {
        this.ctx.log.info(`run ${runId} cancelled`);
      } else {
        const where = error.file ? ` (${vscode.workspace.asRelativePath(error.file)}${error.line ? `:${error.line}` : ''})` : '';
        void this.ctx.reportError(`NormScope: ${error.message}${where}`, error.stack);
      }
      return undefined;
    } finally {
      if (this.active.get(file) === abort) this.active.delete(file);
      if (!this.running) this.statusItem.hide();
    }
  }

  /** Cancel every active run. */
  cancelAll(): boolean {
    const any = this.active.size > 0;
    for (const a of this.active.values()) a.abort();
    return any;
  }

  private updateStatus(text: string): void {
    this.statusItem.text = text;
    this.statusItem.tooltip = 'NormScope is training your model. Click to cancel.';
    this.statusItem.show();
  }

  /** The clients are replaced when settings change, so they are released here rather than owned. */
  override dispose(): void {
    this.cancelAll();
    this.client?.dispose();
    this.python?.client.dispose();
    super.dispose();
  }
}
