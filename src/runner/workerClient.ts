/**
 * Host side of the training worker, shared by the extension and the CLI (no vscode imports).
 * Forks `dist/worker.js` with the host's Node, talks to it over the typed channel, and turns
 * everything that can go wrong in there — a user error, a time limit, an out-of-memory, a crash —
 * into a rejected `run()` with a RunError, never into a problem for the host. A dead worker is
 * started again on next use.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { openChannel, WORKER_REQUEST_TIMEOUT_MS, type Channel, type HostFunctions, type RunError, type RunEvent, type RunOptions, type RunReport, type WorkerEvent, type WorkerFunctions } from '../protocol';
import { RunFailedError } from './runFailedError';

export type LogLevel = 'trace' | 'info' | 'warn' | 'error';

export interface WorkerClientOptions {
  /** Absolute path of dist/worker.js. */
  workerPath: string;
  /** Heap limit of the worker (`--max-old-space-size`), the `normscope.maxMemoryMB` setting. */
  maxMemoryMB?: number;
  /** A run taking longer is stopped (worker killed), the `normscope.runTimeoutSeconds` setting. */
  runTimeoutMs?: number;
  requestTimeoutMs?: number;
  log?: (level: LogLevel, message: string) => void;
}

const TFJS_BANNER = /^=+$|looks like you are running TensorFlow\.js in Node\.js/;

/** How long a cancelled run may take to report `done` before the worker is killed. */
export const CANCEL_GRACE_MS = 800;

interface Worker {
  process: ChildProcess;
  channel: Channel<WorkerFunctions, HostFunctions>;
  exited: boolean;
  /** Last lines of stderr, to explain a crash. */
  stderrTail: string[];
}

interface ActiveRun {
  worker: Worker;
  runId: string | null;
  onEvent: (event: RunEvent) => void;
  settle: (outcome: { report: RunReport } | { error: RunError }) => void;
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

  /** The live worker, forking a new one if there is none or the last one died. */
  private ensureWorker(): Worker {
    if (this.disposed) throw new Error('NormScope: the worker client was disposed');
    if (this.worker && !this.worker.exited) return this.worker;
    const execArgv = this.options.maxMemoryMB ? [`--max-old-space-size=${this.options.maxMemoryMB}`] : [];
    const child = fork(this.options.workerPath, [], { serialization: 'advanced', execArgv, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    const worker: Worker = {
      process: child,
      exited: false,
      stderrTail: [],
      channel: openChannel<WorkerFunctions, HostFunctions>({ event: (e) => this.onEvent(e) }, {
        post: (message) => { if (child.connected) child.send(message as object); },
        listen: (handler) => {
          child.on('message', handler);
          return () => child.off('message', handler);
        },
      }, { timeoutMs: this.options.requestTimeoutMs ?? WORKER_REQUEST_TIMEOUT_MS }),
    };
    const lines = (level: LogLevel, keep: boolean) => (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n').filter((l) => l.trim())) {
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
      error: oom
        ? { code: 'oom', message: `The model ran out of memory (worker heap limit ${this.options.maxMemoryMB ?? 'default'} MB, normscope.maxMemoryMB); try a smaller batch size or model.` }
        : { code: 'crash', message: `The training worker stopped unexpectedly (${signal ?? `exit code ${code}`})${tail ? `:\n${tail}` : ''}` },
    });
  }

  private onEvent(event: WorkerEvent): void {
    if (event.type === 'log') {
      this.log(event.level, `worker: ${event.message}`);
      return;
    }
    const run = this.active;
    if (!run || (run.runId !== null && run.runId !== event.runId)) return; // a late event of a finished run
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
   * Runs one training run in the worker. Runs are queued, one at a time. Resolves with the report
   * (also for a cancelled run that stopped in time: `stoppedEarly: 'cancelled'`); rejects with a
   * `RunFailedError` on a user error, time limit ('timeout'), out-of-memory ('oom'), crash, or a
   * cancel the worker did not honour within CANCEL_GRACE_MS ('cancelled', worker killed).
   */
  run(options: RunOptions, onEvent: (event: RunEvent) => void, cancelToken?: AbortSignal): Promise<RunReport> {
    const next = this.queue.then(() => this.runNow(options, onEvent, cancelToken));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private runNow(options: RunOptions, onEvent: (event: RunEvent) => void, cancelToken?: AbortSignal): Promise<RunReport> {
    return new Promise<RunReport>((resolve, reject) => {
      if (cancelToken?.aborted) {
        reject(new RunFailedError({ code: 'cancelled', message: 'The run was cancelled before it started.' }));
        return;
      }
      let worker: Worker;
      try {
        worker = this.ensureWorker();
      } catch (e) {
        reject(new RunFailedError({ code: 'crash', message: `Cannot start the training worker: ${(e as Error).message}` }));
        return;
      }
      const timers: NodeJS.Timeout[] = [];
      const run: ActiveRun = {
        worker,
        runId: null,
        onEvent,
        settle: (outcome) => {
          if (this.active !== run) return;
          this.active = null;
          timers.forEach(clearTimeout);
          cancelToken?.removeEventListener('abort', onAbort);
          if ('report' in outcome) resolve(outcome.report);
          else reject(new RunFailedError(outcome.error));
        },
      };
      const onAbort = () => {
        if (this.active !== run) return;
        if (run.runId) worker.channel.cancel(run.runId).catch(() => undefined);
        timers.push(setTimeout(() => {
          if (this.active !== run) return;
          run.settle({ error: { code: 'cancelled', message: 'The run was cancelled.' } });
          this.kill(`run did not stop within ${CANCEL_GRACE_MS} ms of cancel`);
        }, CANCEL_GRACE_MS));
      };
      this.active = run;
      cancelToken?.addEventListener('abort', onAbort);
      if (this.options.runTimeoutMs) {
        const limit = this.options.runTimeoutMs;
        timers.push(setTimeout(() => {
          run.settle({ error: { code: 'timeout', message: `The run took longer than ${Math.round(limit / 1000)} s (normscope.runTimeoutSeconds) and was stopped.` } });
          this.kill('run time limit');
        }, limit));
      }
      worker.channel.start(options).then(({ runId }) => {
        run.runId = runId;
        if (cancelToken?.aborted) onAbort();
      }, (e: Error) => {
        run.settle({ error: { code: 'crash', message: `The training worker did not accept the run: ${e.message}` } });
      });
    });
  }

  /** Liveness and leak check (starts the worker if needed). */
  ping(): Promise<{ pid: number; numTensors: number; rssMB: number }> {
    return this.ensureWorker().channel.ping();
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
