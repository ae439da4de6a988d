/**
 * Host side of the PyTorch engine (python/normscope/engine): one Python process per run, speaking the worker
 * event union (src/protocol/worker.ts) as JSON lines on stdout. The same contract as WorkerClient — runs are
 * queued, a user error / time limit / crash / cancel becomes a rejected run with a RunError, never a problem
 * for the host. Findings come from the TypeScript detectors (src/diagnosis/detectors) here on the host, so both
 * engines raise the same findings with the same thresholds from the same numbers.
 */
import { delimiter, dirname, join } from 'node:path';
import type {
  Finding,
  LayerInfo,
  LogLevel,
  NormKind,
  RunError,
  RunEvent,
  RunOptions,
  RunReport,
  StatName,
  StepSample,
  WorkerEvent,
} from '../protocol';
import { detectFindings } from '../diagnosis/detectors';
import type { FixWords } from '../diagnosis/detectors/series';
import { checkThresholds } from '../diagnosis/findings';
import { checkedRunError, RunFailedError, errorMessage } from '../protocol';
import { watchResidentMemory } from './memoryWatch';
import { RunRecorder } from './partialReport';
import { restrictedWriteDir } from './permissions';
import { EngineProcess } from './pythonProcess';
import { resolvePython, type InterpreterChoice } from './pythonInterpreter';

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

/**
 * How long a cancelled run may take to stop at a step boundary before its process group is killed (the report then
 * holds the steps it streamed): short enough that Ctrl-C ends a run spinning in the user's code within 1.5 s.
 */
export const PYTHON_CANCEL_GRACE_MS = 500;

/** A PyTorch model file (run by the Python engine, not the tfjs worker). */
export function isPythonModel(file: string): boolean {
  return /\.py$/i.test(file);
}

/** The engine package's directory next to dist/ (dist/worker.js → python/). */
export function pythonEnginePath(workerPath: string): string {
  return join(dirname(workerPath), '..', 'python');
}

/** PyTorch class names as the detectors know them (they were written against tfjs layer names). */
export function detectorClassName(className: string): string {
  if (/^BatchNorm[123]d$|^SyncBatchNorm$/.test(className)) return 'BatchNormalization';
  if (/^Dropout[123]?d?$|^AlphaDropout$/.test(className)) return 'Dropout';
  if (/^(F|torch|Tensor)\./.test(className)) return 'Activation'; // a functional activation (F.relu in forward)
  return className;
}

/**
 * A norm to insert after `layer`, as PyTorch code names it: the dimensionality from the layer's output
 * (N, C, *spatial), and LayerNorm over a feature map as GroupNorm(1, C) (what the Python swap emits; nn.LayerNorm(C)
 * would normalize the last spatial axis).
 */
export function pytorchNormName(kind: NormKind, layer: LayerInfo): string {
  const shape = layer.outputShape as (number | null)[];
  const spatial = Math.min(3, Math.max(1, shape.length - 2));
  const channels = typeof shape[1] === 'number' ? shape[1] : 'C';
  switch (kind) {
    case 'batchNorm':
      return `nn.BatchNorm${spatial}d`;
    case 'instanceNorm':
      return `nn.InstanceNorm${spatial}d`;
    case 'groupNorm':
      return 'nn.GroupNorm';
    case 'rmsNorm':
      return 'nn.RMSNorm';
    case 'layerNorm':
      return shape.length > 2 ? `nn.GroupNorm(1, ${channels}) (LayerNorm over a feature map)` : 'nn.LayerNorm';
  }
}

/** Fix hints name PyTorch APIs on a PyTorch run. */
export const PYTORCH_WORDS: FixWords = {
  clip: 'torch.nn.utils.clip_grad_norm_ between backward() and step()',
  init: 'nn.init.xavier_normal_ / nn.init.kaiming_normal_',
  heInit: 'nn.init.kaiming_normal_',
  leakyRelu: 'nn.LeakyReLU',
  fasterAverages: 'a larger momentum, e.g. momentum=0.2: PyTorch weighs each new batch by it',
};

/** The findings of a finished run, from the TS detectors (null over JSON is NaN to them). */
export function pythonFindings(
  layers: LayerInfo[],
  statNames: readonly StatName[],
  samples: StepSample[],
  report: RunReport,
  thresholds?: Record<string, number>,
  log?: (message: string) => void,
): Finding[] {
  const asNumber = (v: number | null) => (v === null ? NaN : v);
  return detectFindings(
    {
      layers: layers.map((l) => ({ ...l, className: detectorClassName(l.className) })),
      statNames,
      samples: samples.map((s) => ({
        ...s,
        loss: asNumber(s.loss as number | null),
        values: s.values.map((v) => asNumber(v as number | null)),
      })),
      loss: report.loss.map(asNumber),
      batchSize: report.batchSize,
      normName: pytorchNormName,
      words: PYTORCH_WORDS,
    },
    thresholds,
    log,
  );
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
    let python;
    try {
      checkThresholds(options.thresholds);
    } catch (e) {
      throw new RunFailedError({ code: 'bad-options', message: errorMessage(e) });
    }
    try {
      python = await resolvePython(this.options);
    } catch (e) {
      throw new RunFailedError({ code: 'missing-torch', message: errorMessage(e), file: options.file });
    }
    this.log('info', `PyTorch ${python.torchVersion} via ${python.path}`);
    return new Promise<RunReport>((resolve, reject) => {
      let layers: LayerInfo[] = [];
      let statNames: readonly StatName[] = [];
      const samples: StepSample[] = [];
      const recorder = new RunRecorder(options.file);
      let runId = '';
      let stderrTail: string[] = [];
      let settled = false;
      let cancelling = false;
      let stopWatching = () => undefined as void;
      const timers: NodeJS.Timeout[] = [];
      const settle = (outcome: { report: RunReport } | { error: RunError }) => {
        if (settled) return;
        settled = true;
        stopWatching();
        timers.forEach(clearTimeout);
        cancelToken?.removeEventListener('abort', onAbort);
        engine.end();
        this.running.delete(engine);
        // Cancelled while the user's code was busy (no step boundary in time): the report of the steps it streamed.
        const partial =
          'error' in outcome && outcome.error.code === 'cancelled'
            ? this.partialReport(recorder, layers, statNames, samples, options)
            : null;
        if (partial) {
          onEvent({ type: 'done', runId, report: partial });
          resolve(partial);
        } else if ('report' in outcome) resolve(outcome.report);
        else reject(new RunFailedError(outcome.error));
      };
      const onLine = (line: string) => {
        let event: WorkerEvent;
        try {
          event = JSON.parse(line) as WorkerEvent;
        } catch {
          this.log('warn', `python engine: ${line}`);
          return;
        }
        if (event.type === 'log') return this.log(event.level, `python engine: ${event.message}`);
        runId = event.runId;
        recorder.record(event);
        if (event.type === 'layers') ({ layers, statNames } = event);
        if (event.type === 'progress') samples.push(...event.samples);
        if (event.type === 'done') {
          const findings = pythonFindings(layers, statNames, samples, event.report, options.thresholds, (m) => this.log('error', m));
          onEvent({ type: 'findings', runId: event.runId, findings });
          const report = { ...event.report, findings };
          onEvent({ ...event, report });
          return settle({ report });
        }
        if (event.type === 'error') {
          const raw = checkedRunError(event.error, (code) =>
            this.log('error', `python engine: unknown error code ${JSON.stringify(code)}`),
          );
          // The engine's own MemoryError: same wording as the host's limit.
          const error = raw.code === 'oom' ? { ...raw, ...this.oomError(raw.message) } : raw;
          onEvent({ ...event, error });
          return settle({ error: { ...error, file: error.file ?? options.file } });
        }
        onEvent(event);
      };
      const engine = new EngineProcess(
        python.path,
        ['-m', 'normscope.engine', JSON.stringify(options)],
        {
          // A training script from the CLI runs where the user started it (its relative data paths); everything else
          // next to itself.
          cwd: options.script && !this.options.scriptInItsFolder ? process.cwd() : dirname(options.file),
          env: {
            ...process.env,
            PYTHONPATH: [this.options.enginePath, process.env.PYTHONPATH].filter(Boolean).join(delimiter),
            PYTHONUNBUFFERED: '1',
            PYTHONDONTWRITEBYTECODE: '1',
            // The one folder a restricted model may write to (python/normscope/engine/landlock.py).
            NORMSCOPE_WRITE_DIR: restrictedWriteDir(),
          },
        },
        {
          event: onLine,
          output: (line, stream) => {
            if (stream === 'stderr' && line.trim()) stderrTail = [...stderrTail.slice(-19), line];
            if (this.options.output) this.options.output(line, stream);
            else if (line.trim()) this.log('info', `python: ${line}`);
          },
          failed: (e) => settle({ error: { code: 'crash', message: `Cannot start ${python.path}: ${e.message}` } }),
          exit: (code, signal) =>
            settle(
              cancelling
                ? { error: { code: 'cancelled', message: 'The run was cancelled.' } }
                : {
                    error: {
                      code: 'crash',
                      message: `The PyTorch engine (${python.path}) stopped unexpectedly (${signal ?? `exit code ${code}`})${stderrTail.length ? `:\n${stderrTail.join('\n')}` : ''}`,
                      file: options.file,
                    },
                  },
            ),
        },
      );
      this.running.add(engine);
      const limitMB = this.options.maxMemoryMB;
      if (limitMB && engine.pid)
        stopWatching = watchResidentMemory(engine.pid, limitMB, (mb) =>
          settle({
            error: {
              ...this.oomError(`The PyTorch run used ${Math.round(mb)} MB of memory, over the limit of ${limitMB} MB, and was stopped.`),
              file: options.file,
            },
          }),
        );
      const onAbort = () => {
        if (cancelling) return;
        cancelling = true;
        engine.cancel();
        timers.push(setTimeout(() => settle({ error: { code: 'cancelled', message: 'The run was cancelled.' } }), PYTHON_CANCEL_GRACE_MS));
      };
      cancelToken?.addEventListener('abort', onAbort);
      if (this.options.runTimeoutMs) {
        const limit = this.options.runTimeoutMs;
        timers.push(
          setTimeout(
            () =>
              settle({
                error: {
                  code: 'timeout',
                  message: `The run took longer than ${Math.round(limit / 1000)} s (${this.limitNames.timeout}) and was stopped.`,
                },
              }),
            limit,
          ),
        );
      }
    });
  }

  /** The report of the steps a cancelled run streamed, with the findings of those steps; null before its model was built. */
  private partialReport(
    recorder: RunRecorder,
    layers: LayerInfo[],
    statNames: readonly StatName[],
    samples: StepSample[],
    options: RunOptions,
  ): RunReport | null {
    const report = recorder.partialReport('cancelled');
    if (report) report.findings = pythonFindings(layers, statNames, samples, report, options.thresholds, (m) => this.log('error', m));
    return report;
  }

  dispose(): void {
    this.disposed = true;
    for (const engine of this.running) engine.end();
    this.running.clear();
  }
}
