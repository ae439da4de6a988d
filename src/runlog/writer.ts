/**
 * The run-log writer for a TensorFlow.js training run in the user's own process (the `normscopeCallback` of
 * src/library): the same files as python/normscope/runlog/writer.py writes, record for record (docs/run-log.md;
 * test/unit/runlog-conformance.test.ts compares the two byte for byte). Synchronous writes, one per record, so a
 * process killed at any instant leaves a readable log; a file-system error (disk full) stops the log with one
 * warning, never the training.
 */
import * as fs from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { STAT_NAMES, type LayerInfo } from '../protocol';
import { eventPriority, RunEvents } from './events';
import { encodeLoss, encodeSample, FRAME_BYTES, LOSS_FILE, META_FILE, RUN_LOG_FORMAT, RUN_LOG_VERSION, SAMPLE_HEAD_BYTES } from './format';
import { DEFAULT_BUDGET_BYTES, Retention } from './retention';
import { SampleSegments } from './segments';
import { FsRecordStore, localIso, newRunDir, projectRootOf, relativeSource } from './runDir';

const LOSS_FLUSH_STEPS = 4096;
const LOSS_FLUSH_MS = 1000;

export interface RunLogWriterOptions {
  /** The run folder (created); default a new folder under $NORMSCOPE_DIR or ./.normscope/runs. */
  dir?: string;
  /** The training script (its name names the folder; its path is recorded relative to the project root). */
  script?: string | null;
  /** Default: the nearest folder up from the script with .git, package.json, pyproject.toml, setup.py or setup.cfg, else its folder. */
  projectRoot?: string;
  /** More fields of the run record (every, worldSize, batchSize, versions …). */
  meta?: Record<string, unknown>;
  statNames?: readonly string[];
  /** Bytes of sample files at most (default 128 MiB, or $NORMSCOPE_LOG_MB). */
  budgetBytes?: number;
  engine?: 'tfjs' | 'pytorch';
  /**
   * How the log ends when the process exits without close(): by default reason 'exit' ('exception' after an uncaught
   * error). A writer whose run had finished (a callback between fit() calls) says 'closed'; null keeps the default.
   */
  exitReason?: () => { reason: string; message?: string } | null;
}

/** JSON without NaN/Infinity (null), as the protocol writes them. */
const jsonLine = (record: object) => `${JSON.stringify(record, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v))}\n`;

export class RunLogWriter {
  readonly dir: string;
  readonly root: string;
  readonly statNames: string[];
  private readonly width: number;
  private readonly retention: Retention;
  private readonly events: RunEvents;
  private seq = 0;
  private layerCount = 0;
  private lastStep: number | null = null;
  private lossFirst: number | null = null;
  private lossValues: number[] = [];
  private lossFlushed = performance.now();
  private metaFd: number | null;
  private lossFd: number | null;
  private readonly store: FsRecordStore;
  private readonly segments: SampleSegments;
  private closed = false;
  private uncaught: Error | null = null;
  private readonly onExit = () => {
    const chosen = this.uncaught ? null : this.options.exitReason?.();
    if (chosen) this.close(chosen.reason, chosen.message);
    else this.close(this.uncaught ? 'exception' : 'exit', this.uncaught ? String(this.uncaught) : 'the process exited without close()');
  };
  private readonly onUncaught = (e: Error) => {
    this.uncaught = e;
  };

  constructor(private readonly options: RunLogWriterOptions = {}) {
    const script = options.script ?? null;
    this.root = resolve(options.projectRoot ?? (script ? projectRootOf(script) : process.cwd()));
    this.dir = options.dir ? resolve(options.dir) : newRunDir(script);
    fs.mkdirSync(this.dir, { recursive: true });
    this.statNames = [...(options.statNames ?? STAT_NAMES)];
    this.width = this.statNames.length;
    const envBudget = Number(process.env.NORMSCOPE_LOG_MB) * 2 ** 20;
    this.retention = new Retention(Math.floor(options.budgetBytes ?? (envBudget > 0 ? envBudget : DEFAULT_BUDGET_BYTES)));
    this.events = new RunEvents(this.statNames);
    this.store = new FsRecordStore(this.dir);
    this.segments = new SampleSegments(this.retention, this.store, (stride) => this.line({ type: 'stride', stride, seq: this.seq }));
    this.metaFd = fs.openSync(join(this.dir, META_FILE), 'ax');
    this.lossFd = fs.openSync(join(this.dir, LOSS_FILE), 'ax');
    const { versions, ...meta } = options.meta ?? {};
    this.line({
      type: 'run',
      format: RUN_LOG_FORMAT,
      version: RUN_LOG_VERSION,
      engine: options.engine ?? 'tfjs',
      file: script ? relativeSource({ file: script, line: 0, column: 0 }, this.root)!.file : null,
      projectRoot: this.root,
      cwd: process.cwd(),
      host: hostname(),
      pid: process.pid,
      started: localIso(),
      every: 1,
      worldSize: 1,
      statNames: this.statNames,
      budgetBytes: this.retention.budget,
      versions: { node: process.versions.node, ...(versions as Record<string, string> | undefined) },
      ...meta,
    });
    process.on('exit', this.onExit);
    process.on('uncaughtExceptionMonitor', this.onUncaught);
  }

  /** The layer table so far, in row order; rows beyond the last call are appended. */
  layers(infos: readonly LayerInfo[]): void {
    const added = infos.slice(this.layerCount);
    if (this.stopped() || added.length === 0) return;
    this.guard(() =>
      this.line({ type: 'layers', seq: this.seq, layers: added.map((l) => ({ ...l, source: relativeSource(l.source, this.root) })) }),
    );
    this.layerCount += added.length;
  }

  /** One sampled step: rows × statNames values (rows ≤ the layer table). */
  sample(step: number, loss: number, stepMs: number, values: ArrayLike<number>): void {
    if (this.stopped()) return;
    const rows = Math.floor(values.length / this.width);
    if (rows * this.width !== values.length || rows > this.layerCount)
      throw new RangeError(
        `run log: ${values.length} values are not rows of ${this.width} statistics for at most ${this.layerCount} layers`,
      );
    const floats = Float32Array.from(values);
    this.guard(() => {
      const seq = this.seq;
      this.addLoss(step, loss, true); // flushed within a second; the sample record holds it meanwhile
      const recordBytes = FRAME_BYTES + SAMPLE_HEAD_BYTES + floats.byteLength;
      for (const e of this.events.sample(seq, rows, floats)) this.event(e.kind, e.layer, seq, step, e.value, recordBytes);
      const data = encodeSample({ seq, step, loss, stepMs }, rows, floats);
      this.segments.add({ seq, size: data.length, data });
      this.seq = seq + 1;
    });
  }

  /** The loss of a step that was not sampled. */
  loss(step: number, value: number): void {
    if (!this.stopped()) this.guard(() => this.addLoss(step, value, true));
  }

  /** A step the optimizer skipped. */
  skipped(step: number, reason: string): void {
    if (!this.stopped()) this.guard(() => this.line({ type: 'skipped', step, reason }));
  }

  /** Facts learned late (batchSize, learningRate): merged into the run record by the reader. */
  info(fields: Record<string, unknown>): void {
    if (!this.stopped()) this.guard(() => this.line({ ...fields, type: 'info' }));
  }

  /** Ends the log with an end record; a killed process leaves none. */
  close(reason = 'closed', message?: string): void {
    if (this.closed) return;
    process.off('exit', this.onExit);
    process.off('uncaughtExceptionMonitor', this.onUncaught);
    if (this.metaFd !== null) {
      this.guard(() => {
        this.flushLoss();
        this.line({
          type: 'end',
          reason,
          time: localIso(),
          samples: this.seq,
          steps: this.lastStep === null ? null : this.lastStep + 1,
          ...(message ? { message } : {}),
        });
      });
    }
    this.closeFiles();
  }

  private stopped(): boolean {
    return this.closed;
  }

  private guard(write: () => void): void {
    try {
      write();
    } catch (e) {
      if (e instanceof RangeError) throw e;
      this.closeFiles();
      process.emitWarning(`NormScope: the run log ${this.dir} stopped at step ${this.lastStep}: ${(e as Error).message}`);
    }
  }

  private closeFiles(): void {
    this.closed = true;
    this.store.closeAll();
    for (const fd of [this.lossFd, this.metaFd]) {
      if (fd === null) continue;
      try {
        fs.closeSync(fd);
      } catch {
        /* already gone */
      }
    }
    this.lossFd = this.metaFd = null;
  }

  private line(record: object): void {
    fs.writeSync(this.metaFd!, jsonLine(record));
  }

  private event(kind: string, layer: number | null, seq: number, step: number, value: number, recordBytes: number): void {
    const kept = this.retention.protect(seq, recordBytes, eventPriority(kind));
    this.line({ type: 'event', seq, step, kind, layer, value, kept });
  }

  private addLoss(step: number, value: number, check: boolean): void {
    if (step === this.lastStep) {
      if (this.lossFirst !== null) {
        this.lossValues[this.lossValues.length - 1] = value; // the same step again: the later value
        return;
      }
      check = false;
    }
    if (this.lossFirst !== null && step !== this.lossFirst + this.lossValues.length) this.flushLoss();
    this.lossFirst ??= step;
    this.lossValues.push(value);
    this.lastStep = step;
    if (check) {
      const size = FRAME_BYTES + SAMPLE_HEAD_BYTES + 4 * this.layerCount * this.width;
      for (const e of this.events.loss(this.seq, value)) this.event(e.kind, e.layer, this.seq, step, e.value, size);
    }
    if (this.lossValues.length >= LOSS_FLUSH_STEPS || performance.now() - this.lossFlushed >= LOSS_FLUSH_MS) this.flushLoss();
  }

  private flushLoss(): void {
    this.lossFlushed = performance.now();
    if (this.lossFirst === null) return;
    fs.writeSync(this.lossFd!, encodeLoss(this.lossFirst, Float32Array.from(this.lossValues)));
    this.lossFirst = null;
    this.lossValues = [];
  }
}
