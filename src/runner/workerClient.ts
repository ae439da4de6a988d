/**
 * Host side of the training worker, shared by the extension and the CLI (no vscode imports).
 * Forks `dist/worker.js` with the host's Node, talks to it over the typed channel, and turns
 * everything that can go wrong in there — a user error, a time limit, an out-of-memory, a crash —
 * into a rejected `run()` with a RunError, never into a problem for the host. A dead worker is
 * started again on next use.
 */
import { fork, type ChildProcess } from 'node:child_process';
import {
  openChannel,
  WORKER_REQUEST_TIMEOUT_MS,
  type Channel,
  type HostFunctions,
  type LogLevel,
  type PreparedModule,
  type RunError,
  type RunEvent,
  type RunOptions,
  type RunReport,
  type WorkerEvent,
  type WorkerFunctions,
  errorMessage,
} from '../protocol';
import { RunRecorder } from './partialReport';
import { permissionArgs, prepareRestricted, type PermissionMode } from './permissions';
import { RunFailedError } from '../protocol';

export interface WorkerClientOptions {
  /** Absolute path of dist/worker.js. */
  workerPath: string;
  /** Memory limit of a run: the worker's resident memory and its model thread's heap; `normscope.maxMemoryMB`. */
  maxMemoryMB?: number;
  /** A run taking longer is stopped (by the worker, and by the host as a backstop), `normscope.runTimeoutSeconds`. */
  runTimeoutMs?: number;
  /** How messages name the limits: the editor's settings (default) or the CLI's flags. */
  limitNames?: { timeout: string; memory: string };
  requestTimeoutMs?: number;
  /**
   * Top-level functions of a model file that its bundle must expose (analysis `exposedBindingsOf`), so that a
   * restricted worker, which gets the bundle compiled here, can call non-exported builder functions. Passed in
   * because the extension reaches the TypeScript compiler lazily (src/editor/analysis.ts).
   */
  exposedBindings?: (file: string, model: string | undefined) => readonly string[];
  log?: (level: LogLevel, message: string) => void;
}

const TFJS_BANNER = /^=+$|looks like you are running TensorFlow\.js in Node\.js/;

/**
 * How long a cancelled run may take to report `done` (or `cancelled`) before the worker process is killed.
 * The worker ends a busy run itself within 300 ms; this only covers a worker that stopped answering.
 */
export const CANCEL_GRACE_MS = 900;
/** The worker enforces the time limit; the host's own timer is a backstop that fires this much later. */
const TIMEOUT_BACKSTOP_MS = 5000;
const EDITOR_LIMIT_NAMES = { timeout: 'normscope.runTimeoutSeconds', memory: 'normscope.maxMemoryMB' };

interface Worker {
  process: ChildProcess;
  channel: Channel<WorkerFunctions, HostFunctions>;
  exited: boolean;
  permissions: PermissionMode;
  /** Last lines of stderr, to explain a crash. */
  stderrTail: string[];
}

interface ActiveRun {
  worker: Worker;
  runId: string | null;
  recorder: RunRecorder;
  /** Cancel was asked for: however the run ends now, it counts as cancelled. */
  cancelling: boolean;
  onEvent: (event: RunEvent) => void;
  settle: (outcome: { report: RunReport } | { error: RunError }) => void;
}

/** A compile failure (syntax error, missing import) as the RunError the worker would have sent. */
function toCompileError(e: unknown): RunError {
  return e instanceof RunFailedError
    ? e.runError
    : { code: 'internal', message: `NormScope: cannot compile the model: ${errorMessage(e)}` };
}

export class WorkerClient {
  private worker: Worker | null = null;
  private active: ActiveRun | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private disposed = false;

  constructor(private readonly options: WorkerClientOptions) {}

  private log(level: LogLevel, message: string): void {
    this.options.log?.(level, message);
  }

  private get limitNames() {
    return this.options.limitNames ?? EDITOR_LIMIT_NAMES;
  }

  /** The live worker with these permissions, forking a new one if there is none, it died, or it has others. */
  private ensureWorker(permissions: PermissionMode = 'restricted'): Worker {
    if (this.disposed) throw new Error('NormScope: the worker client was disposed');
    if (this.worker && !this.worker.exited && this.worker.permissions === permissions) return this.worker;
    if (this.worker && !this.worker.exited) this.kill(`a run needs permissions '${permissions}'`);
    const { maxMemoryMB, runTimeoutMs } = this.options;
    const args = [...(maxMemoryMB ? [`--max-memory-mb=${maxMemoryMB}`] : []), ...(runTimeoutMs ? [`--timeout-ms=${runTimeoutMs}`] : [])];
    const child = fork(this.options.workerPath, args, {
      serialization: 'advanced',
      execArgv: permissionArgs(permissions),
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const worker: Worker = {
      process: child,
      exited: false,
      permissions,
      stderrTail: [],
      channel: openChannel<WorkerFunctions, HostFunctions>(
        { event: (e) => this.onEvent(e) },
        {
          post: (message) => {
            if (child.connected) child.send(message as object);
          },
          listen: (handler) => {
            child.on('message', handler);
            return () => child.off('message', handler);
          },
        },
        { timeoutMs: this.options.requestTimeoutMs ?? WORKER_REQUEST_TIMEOUT_MS },
      ),
    };
    const lines = (level: LogLevel, keep: boolean) => (chunk: Buffer) => {
      for (const line of chunk
        .toString()
        .split('\n')
        .filter((l) => l.trim())) {
        // tfjs prints an advert for tfjs-node on stderr when it starts on cpu: not a warning.
        this.log(TFJS_BANNER.test(line) ? 'trace' : level, `worker: ${line}`);
        if (keep) worker.stderrTail = [...worker.stderrTail.slice(-19), line];
      }
    };
    child.stdout?.on('data', lines('trace', false));
    child.stderr?.on('data', lines('warn', true));
    child.on('error', (e) => this.log('error', `worker process error: ${e.message}`));
    child.on('exit', (code, signal) => this.onExit(worker, code, signal));
    this.log('info', `worker started (pid ${child.pid})`);
    this.worker = worker;
    return worker;
  }

  private onExit(worker: Worker, code: number | null, signal: NodeJS.Signals | null): void {
    worker.exited = true;
    const tail = worker.stderrTail.join('\n');
    const oom = /heap out of memory|Allocation failed|Reached heap limit/i.test(tail);
    worker.channel.$close(new Error(`NormScope: the training worker exited (${signal ?? `code ${code}`})`));
    this.log(code === 0 || signal === 'SIGTERM' ? 'info' : 'warn', `worker exited (${signal ?? `code ${code}`})`);
    if (this.worker === worker) this.worker = null;
    if (this.active?.worker !== worker) return;
    this.active.settle({
      error: this.active.cancelling
        ? { code: 'cancelled', message: 'The run was cancelled.' }
        : oom
          ? this.limitError('oom')
          : {
              code: 'crash',
              message: `The training worker stopped unexpectedly (${signal ?? `exit code ${code}`})${tail ? `:\n${tail}` : ''}`,
            },
    });
  }

  /** A limit error that names the limit the way the user sets it (setting in the editor, flag on the CLI). */
  private limitError(code: 'oom' | 'timeout', detail?: string): RunError {
    if (code === 'timeout') {
      const seconds = Math.round((this.options.runTimeoutMs ?? 0) / 1000);
      return { code, message: `The run took longer than ${seconds} s (${this.limitNames.timeout}) and was stopped.` };
    }
    return {
      code,
      message: `${detail ?? 'The model ran out of memory.'} Raise the limit with ${this.limitNames.memory} (now ${this.options.maxMemoryMB ?? 'default'} MB) or try a smaller batch size or model.`,
    };
  }

  private onEvent(event: WorkerEvent): void {
    if (event.type === 'log') {
      this.log(event.level, `worker: ${event.message}`);
      return;
    }
    const run = this.active;
    if (!run || (run.runId !== null && run.runId !== event.runId)) return; // a late event of a finished run
    run.recorder.record(event);
    if (event.type === 'error' && event.error.code === 'cancelled') {
      run.settle({ error: event.error }); // becomes a 'done' with the partial report when there is one
      return;
    }
    if (event.type === 'error' && (event.error.code === 'timeout' || event.error.code === 'oom')) {
      const error = this.limitError(event.error.code, event.error.message);
      run.onEvent({ ...event, error });
      run.settle({ error });
      return;
    }
    run.onEvent(event);
    if (event.type === 'done') run.settle({ report: event.report });
    if (event.type === 'error') run.settle({ error: event.error });
  }

  /** Kills the worker (it restarts on next use). */
  private kill(reason: string): void {
    const worker = this.worker;
    if (!worker || worker.exited) return;
    this.log('warn', `stopping the worker: ${reason}`);
    // Forget it at once, so a queued run forks a fresh worker instead of using the dying one.
    worker.exited = true;
    if (this.worker === worker) this.worker = null;
    worker.channel.$close(new Error(`NormScope: the training worker was stopped (${reason})`));
    worker.process.kill('SIGKILL');
  }

  /**
   * Runs one training run in the worker. Runs are queued, one at a time. Resolves with the report;
   * a cancelled run resolves with `stoppedEarly: 'cancelled'` — its own report when it stopped at a
   * step boundary, else (its thread terminated while busy) the report of the steps it streamed, also
   * sent to `onEvent` as a `done` event. Rejects with a `RunFailedError` on a user error, a late error
   * ('late-error'), time limit ('timeout'), memory limit ('oom'), crash, or a cancel before the model
   * was built ('cancelled': nothing to report).
   */
  run(options: RunOptions, onEvent: (event: RunEvent) => void, cancelToken?: AbortSignal): Promise<RunReport> {
    const next = this.queue.then(() => this.runNow(options, onEvent, cancelToken));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private exposedBindings(options: RunOptions): readonly string[] {
    if (!this.options.exposedBindings || options.file.toLowerCase().endsWith('.json')) return [];
    try {
      return this.options.exposedBindings(options.file, options.model);
    } catch {
      return []; // unreadable or unparsable: the compile that follows reports it
    }
  }

  private async runNow(options: RunOptions, onEvent: (event: RunEvent) => void, cancelToken?: AbortSignal): Promise<RunReport> {
    // A training script runs with the user's rights (`normscope run`); model code is restricted unless turned off.
    const permissions = options.permissions ?? (options.script ? 'off' : 'restricted');
    let prepared: PreparedModule | undefined;
    try {
      // A worker under the permission model cannot start esbuild (a child process): compile here.
      if (permissions === 'restricted') prepared = await prepareRestricted(options.file, this.exposedBindings(options));
    } catch (e) {
      throw new RunFailedError(toCompileError(e));
    }
    return new Promise<RunReport>((resolve, reject) => {
      if (cancelToken?.aborted) {
        reject(new RunFailedError({ code: 'cancelled', message: 'The run was cancelled before it started.' }));
        return;
      }
      let worker: Worker;
      try {
        worker = this.ensureWorker(permissions);
      } catch (e) {
        reject(new RunFailedError({ code: 'crash', message: `Cannot start the training worker: ${errorMessage(e)}` }));
        return;
      }
      const timers: NodeJS.Timeout[] = [];
      const run: ActiveRun = {
        worker,
        runId: null,
        recorder: new RunRecorder(options.file),
        cancelling: false,
        onEvent,
        settle: (outcome) => {
          if (this.active !== run) return;
          this.active = null;
          timers.forEach(clearTimeout);
          cancelToken?.removeEventListener('abort', onAbort);
          // A run ended from outside while cancelling still reports the steps it streamed.
          const partial = 'error' in outcome && outcome.error.code === 'cancelled' ? run.recorder.partialReport('cancelled') : null;
          if (partial) {
            onEvent({ type: 'done', runId: run.runId ?? '', report: partial });
            resolve(partial);
          } else if ('report' in outcome) resolve(outcome.report);
          else reject(new RunFailedError(outcome.error));
        },
      };
      const onAbort = () => {
        if (this.active !== run || run.cancelling) return;
        run.cancelling = true;
        if (run.runId) worker.channel.cancel(run.runId).catch(() => undefined);
        timers.push(
          setTimeout(() => {
            if (this.active !== run) return;
            run.settle({ error: { code: 'cancelled', message: 'The run was cancelled.' } });
            this.kill(`run did not stop within ${CANCEL_GRACE_MS} ms of cancel`);
          }, CANCEL_GRACE_MS),
        );
      };
      this.active = run;
      cancelToken?.addEventListener('abort', onAbort);
      if (this.options.runTimeoutMs) {
        timers.push(
          setTimeout(() => {
            run.settle({ error: this.limitError('timeout') });
            this.kill('run time limit');
          }, this.options.runTimeoutMs + TIMEOUT_BACKSTOP_MS),
        );
      }
      worker.channel.start(options, prepared).then(
        ({ runId }) => {
          run.runId = runId;
          if (run.cancelling || cancelToken?.aborted) {
            run.cancelling = false;
            onAbort();
          }
        },
        (e: Error) => {
          run.settle({ error: { code: 'crash', message: `The training worker did not accept the run: ${e.message}` } });
        },
      );
    });
  }

  /** Liveness and leak check (starts the worker if needed). */
  ping(): Promise<{ pid: number; numTensors: number; rssMB: number }> {
    return this.ensureWorker(this.worker?.permissions).channel.ping();
  }

  /** Starts the worker now so the first run does not pay for it. */
  warmUp(): Promise<void> {
    return this.ping().then(() => undefined);
  }

  dispose(): void {
    if (this.disposed) return;
    this.active?.settle({ error: { code: 'cancelled', message: 'NormScope is shutting down.' } });
    this.disposed = true;
    const worker = this.worker;
    this.worker = null;
    if (worker && !worker.exited) {
      worker.channel.$close();
      worker.process.kill();
    }
  }
}
