/**
 * One run of the PyTorch engine, for PythonClient: its process, what it streamed, and the one way it ends — the
 * report (with the TypeScript detectors' findings), the engine's error, a crash, a cancel (then the report of the
 * steps it streamed), or the memory or time limit. Whatever comes first settles the run and ends the process.
 */
import { delimiter, dirname } from 'node:path';
import type { LayerInfo, LogLevel, RunError, RunEvent, RunOptions, RunReport, StatName, StepSample, WorkerEvent } from '../protocol';
import { checkedRunError, RunFailedError } from '../protocol';
import { pythonFindings } from '../diagnosis/pytorch';
import { watchResidentMemory } from './memoryWatch';
import { RunRecorder } from './partialReport';
import { restrictedWriteDir } from './permissions';
import { EngineProcess } from './pythonProcess';

/**
 * How long a cancelled run may take to stop at a step boundary before its process group is killed (the report then
 * holds the steps it streamed): short enough that Ctrl-C ends a run spinning in the user's code within 1.5 s.
 */
export const PYTHON_CANCEL_GRACE_MS = 500;

/** What one run is given by its client. */
export interface PythonRunSetup {
  /** The interpreter that runs the engine. */
  pythonPath: string;
  /** Directory that contains the `normscope` package, put first on PYTHONPATH. */
  enginePath: string;
  options: RunOptions;
  onEvent: (event: RunEvent) => void;
  cancelToken?: AbortSignal;
  /** A training script from the CLI runs where the user started it; everything else next to itself. */
  scriptInItsFolder?: boolean;
  runTimeoutMs?: number;
  /** The setting or flag that sets the time limit, for its message. */
  timeoutName: string;
  maxMemoryMB?: number;
  /** An 'oom' error naming the memory limit as the user sets it; `detail` says what happened. */
  oomError: (detail: string) => RunError;
  log: (level: LogLevel, message: string) => void;
  /** Where the user's prints go; by default into `log` at info level, prefixed `python: `. */
  output?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** Told of the process when it starts and when it ends (the client ends every running one on dispose). */
  started: (engine: EngineProcess) => void;
  ended: (engine: EngineProcess) => void;
}

type Outcome = { report: RunReport } | { error: RunError };

export function runPythonEngine(setup: PythonRunSetup): Promise<RunReport> {
  return new PythonRun(setup).result;
}

class PythonRun {
  readonly result: Promise<RunReport>;
  private resolve!: (report: RunReport) => void;
  private reject!: (error: Error) => void;
  private layers: LayerInfo[] = [];
  private statNames: readonly StatName[] = [];
  private readonly samples: StepSample[] = [];
  private readonly recorder: RunRecorder;
  private runId = '';
  private stderrTail: string[] = [];
  private settled = false;
  private cancelling = false;
  private stopWatching: () => void = () => undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly engine: EngineProcess;

  constructor(private readonly setup: PythonRunSetup) {
    this.result = new Promise<RunReport>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    this.recorder = new RunRecorder(setup.options.file);
    this.engine = this.start();
    setup.started(this.engine);
    this.watchLimits();
  }

  private start(): EngineProcess {
    const { options, pythonPath } = this.setup;
    return new EngineProcess(
      pythonPath,
      ['-m', 'normscope.engine', JSON.stringify(options)],
      {
        // A training script from the CLI runs where the user started it (its relative data paths); everything else
        // next to itself.
        cwd: options.script && !this.setup.scriptInItsFolder ? process.cwd() : dirname(options.file),
        env: {
          ...process.env,
          PYTHONPATH: [this.setup.enginePath, process.env.PYTHONPATH].filter(Boolean).join(delimiter),
          PYTHONUNBUFFERED: '1',
          PYTHONDONTWRITEBYTECODE: '1',
          // The one folder a restricted model may write to (python/normscope/engine/landlock.py).
          NORMSCOPE_WRITE_DIR: restrictedWriteDir(),
        },
      },
      {
        event: (line) => this.onLine(line),
        output: (line, stream) => this.onOutput(line, stream),
        failed: (e) => this.settle({ error: { code: 'crash', message: `Cannot start ${pythonPath}: ${e.message}` } }),
        exit: (code, signal) => this.settle(this.cancelling ? cancelled() : this.crashed(signal ?? `exit code ${code}`)),
      },
    );
  }

  /** The memory limit, the cancel token and the time limit. */
  private watchLimits(): void {
    const { maxMemoryMB: limitMB, cancelToken, runTimeoutMs: limit, options } = this.setup;
    if (limitMB && this.engine.pid) {
      this.stopWatching = watchResidentMemory(this.engine.pid, limitMB, (mb) =>
        this.settle({
          error: {
            ...this.setup.oomError(
              `The PyTorch run used ${Math.round(mb)} MB of memory, over the limit of ${limitMB} MB, and was stopped.`,
            ),
            file: options.file,
          },
        }),
      );
    }
    cancelToken?.addEventListener('abort', this.onAbort);
    if (limit) {
      const message = `The run took longer than ${Math.round(limit / 1000)} s (${this.setup.timeoutName}) and was stopped.`;
      this.timers.push(setTimeout(() => this.settle({ error: { code: 'timeout', message } }), limit));
    }
  }

  private readonly onAbort = (): void => {
    if (this.cancelling) return;
    this.cancelling = true;
    this.engine.cancel();
    this.timers.push(setTimeout(() => this.settle(cancelled()), PYTHON_CANCEL_GRACE_MS));
  };

  /** One JSON line of the engine: a worker event. */
  private onLine(line: string): void {
    const { options, onEvent, log } = this.setup;
    let event: WorkerEvent;
    try {
      event = JSON.parse(line) as WorkerEvent;
    } catch {
      log('warn', `python engine: ${line}`);
      return;
    }
    if (event.type === 'log') return log(event.level, `python engine: ${event.message}`);
    this.runId = event.runId;
    this.recorder.record(event);
    if (event.type === 'layers') ({ layers: this.layers, statNames: this.statNames } = event);
    if (event.type === 'progress') this.samples.push(...event.samples);
    if (event.type === 'done') {
      const findings = this.findingsOf(event.report);
      onEvent({ type: 'findings', runId: event.runId, findings });
      const report = { ...event.report, findings };
      onEvent({ ...event, report });
      return this.settle({ report });
    }
    if (event.type === 'error') {
      const raw = checkedRunError(event.error, (code) => log('error', `python engine: unknown error code ${JSON.stringify(code)}`));
      // The engine's own MemoryError: same wording as the host's limit.
      const error = raw.code === 'oom' ? { ...raw, ...this.setup.oomError(raw.message) } : raw;
      onEvent({ ...event, error });
      return this.settle({ error: { ...error, file: error.file ?? options.file } });
    }
    onEvent(event);
  }

  private onOutput(line: string, stream: 'stdout' | 'stderr'): void {
    if (stream === 'stderr' && line.trim()) this.stderrTail = [...this.stderrTail.slice(-19), line];
    if (this.setup.output) this.setup.output(line, stream);
    else if (line.trim()) this.setup.log('info', `python: ${line}`);
  }

  private crashed(how: string): Outcome {
    const tail = this.stderrTail.length ? `:\n${this.stderrTail.join('\n')}` : '';
    return {
      error: {
        code: 'crash',
        message: `The PyTorch engine (${this.setup.pythonPath}) stopped unexpectedly (${how})${tail}`,
        file: this.setup.options.file,
      },
    };
  }

  private findingsOf(report: RunReport) {
    const { options, log } = this.setup;
    return pythonFindings(this.layers, this.statNames, this.samples, report, options.thresholds, (m) => log('error', m));
  }

  /** The first outcome wins: the process is ended, the watches stopped, and the run resolved or rejected. */
  private settle(outcome: Outcome): void {
    if (this.settled) return;
    this.settled = true;
    this.stopWatching();
    this.timers.forEach(clearTimeout);
    this.setup.cancelToken?.removeEventListener('abort', this.onAbort);
    this.engine.end();
    this.setup.ended(this.engine);
    // Cancelled while the user's code was busy (no step boundary in time): the report of the steps it streamed.
    const partial = 'error' in outcome && outcome.error.code === 'cancelled' ? this.recorder.partialReport('cancelled') : null;
    if (partial) {
      partial.findings = this.findingsOf(partial);
      this.setup.onEvent({ type: 'done', runId: this.runId, report: partial });
      this.resolve(partial);
    } else if ('report' in outcome) this.resolve(outcome.report);
    else this.reject(new RunFailedError(outcome.error));
  }
}

function cancelled(): Outcome {
  return { error: { code: 'cancelled', message: 'The run was cancelled.' } };
}
