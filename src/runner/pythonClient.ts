/**
 * Host side of the PyTorch engine (python/normscope/engine): one Python process per run, speaking the worker
 * event union (src/protocol/worker.ts) as JSON lines on stdout. The same contract as WorkerClient — runs are
 * queued, a user error / time limit / crash / cancel becomes a rejected run with a RunError, never a problem
 * for the host. Findings come from the TypeScript detectors (src/diagnosis/detectors) here on the host, so both
 * engines raise the same findings with the same thresholds from the same numbers (one run: ./pythonRun).
 */
import { dirname, join } from 'node:path';
import type { LogLevel, RunError, RunEvent, RunOptions, RunReport } from '../protocol';
import { checkThresholds } from '../diagnosis/findings';
import { RunFailedError, errorMessage } from '../protocol';
import type { EngineProcess } from './pythonProcess';
import { resolvePython, type InterpreterChoice } from './pythonInterpreter';
import { runPythonEngine } from './pythonRun';

export interface PythonClientOptions extends InterpreterChoice {
  /** Directory that contains the `normscope` package (the extension's python/). */
  enginePath: string;
  runTimeoutMs?: number;
  /** Memory limit of a run: the Python process's resident memory (./memoryWatch), `normscope.maxMemoryMB`. */
  maxMemoryMB?: number;
  /**
   * A training script runs in its own folder (the editor, as tfjs scripts do) rather than in the caller's working
   * directory (the CLI's `normscope run`, where the user started it).
   */
  scriptInItsFolder?: boolean;
  /** How messages name the limits: the editor's settings (default) or the CLI's flags. */
  limitNames?: { timeout: string; memory: string };
  log?: (level: LogLevel, message: string) => void;
  /** Where the user's prints go (the CLI: its stderr); by default into `log` at info level, prefixed `python: `. */
  output?: (line: string, stream: 'stdout' | 'stderr') => void;
}

/** A PyTorch model file (run by the Python engine, not the tfjs worker). */
export function isPythonModel(file: string): boolean {
  return /\.py$/i.test(file);
}

/** The engine package's directory next to dist/ (dist/worker.js → python/). */
export function pythonEnginePath(workerPath: string): string {
  return join(dirname(workerPath), '..', 'python');
}

const EDITOR_LIMIT_NAMES = { timeout: 'normscope.runTimeoutSeconds', memory: 'normscope.maxMemoryMB' };

export class PythonClient {
  private queue: Promise<unknown> = Promise.resolve();
  private readonly running = new Set<EngineProcess>();
  private disposed = false;

  constructor(private readonly options: PythonClientOptions) {}

  private log(level: LogLevel, message: string): void {
    this.options.log?.(level, message);
  }

  private get limitNames(): { timeout: string; memory: string } {
    return this.options.limitNames ?? EDITOR_LIMIT_NAMES;
  }

  /** An 'oom' error naming the limit as the user sets it; `detail` says what happened. */
  private oomError(detail: string): RunError {
    const limit = this.options.maxMemoryMB;
    return {
      code: 'oom',
      message: `${detail} Raise the limit with ${this.limitNames.memory} (now ${limit ?? 'none'}${limit ? ' MB' : ''}) or try a smaller batch size or model.`,
    };
  }

  /** Same contract as WorkerClient.run. */
  run(options: RunOptions, onEvent: (event: RunEvent) => void, cancelToken?: AbortSignal): Promise<RunReport> {
    const next = this.queue.then(() => this.runNow(options, onEvent, cancelToken));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async runNow(options: RunOptions, onEvent: (event: RunEvent) => void, cancelToken?: AbortSignal): Promise<RunReport> {
    if (this.disposed) throw new RunFailedError({ code: 'cancelled', message: 'NormScope is shutting down.' });
    if (cancelToken?.aborted) throw new RunFailedError({ code: 'cancelled', message: 'The run was cancelled before it started.' });
    checkThresholds(options.thresholds);
    let python;
    try {
      python = await resolvePython(this.options);
    } catch (e) {
      throw new RunFailedError({ code: 'missing-torch', message: errorMessage(e), file: options.file });
    }
    this.log('info', `PyTorch ${python.torchVersion} via ${python.path}`);
    const { enginePath, runTimeoutMs, maxMemoryMB, scriptInItsFolder, output } = this.options;
    return runPythonEngine({
      enginePath,
      runTimeoutMs,
      maxMemoryMB,
      scriptInItsFolder,
      output,
      pythonPath: python.path,
      options,
      onEvent,
      cancelToken,
      timeoutName: this.limitNames.timeout,
      oomError: (detail) => this.oomError(detail),
      log: (level, message) => this.log(level, message),
      started: (engine) => this.running.add(engine),
      ended: (engine) => this.running.delete(engine),
    });
  }

  dispose(): void {
    this.disposed = true;
    for (const engine of this.running) engine.end();
    this.running.clear();
  }
}
