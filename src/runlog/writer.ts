/**
 * The run-log writer for a TensorFlow.js training run in the user's own process (the `normscopeCallback` of
 * src/library): the same files as python/normscope_engine/runlog.py writes, record for record (docs/run-log.md;
 * test/unit/runlog-conformance.test.ts compares the two byte for byte). Synchronous writes, one per record, so a
 * process killed at any instant leaves a readable log; a file-system error (disk full) stops the log with one
 * warning, never the training.
 */
import * as fs from 'node:fs';
import { hostname } from 'node:os';
import { basename, extname, join, relative, resolve, sep } from 'node:path';
import { STAT_NAMES, type LayerInfo, type SourceLocation } from '../protocol';
import { eventPriority, RunEvents } from './events';
import {
  encodeLoss,
  encodeSample,
  FRAME_BYTES,
  LOSS_FILE,
  META_FILE,
  readRecords,
  RUN_LOG_FORMAT,
  RUN_LOG_VERSION,
  SAMPLE_HEAD_BYTES,
  sampleSeq,
} from './format';
import { runsFolder } from './read';
import { DEFAULT_BUDGET_BYTES, Retention } from './retention';
import { SampleSegments, type RecordStore, type StoredRecord } from './segments';

export interface RunLogWriterOptions {
  /** The run folder (created); default a new folder under $NORMSCOPE_DIR or ./.normscope/runs. */
  dir?: string;
  /** The training script (its name names the folder; its path is recorded relative to the project root). */
  script?: string | null;
  /** Default: the nearest folder up from the script with .git, package.json, pyproject.toml, setup.py or setup.cfg. */
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

const PROJECT_MARKERS = ['.git', 'package.json', 'pyproject.toml', 'setup.py', 'setup.cfg'];
const LOSS_FLUSH_STEPS = 4096;
const LOSS_FLUSH_MS = 1000;

/** The nearest folder at or above `file`'s folder with a project marker, else the working directory. */
export function projectRootOf(file: string): string {
  let folder = resolve(file, '..');
  for (;;) {
    if (PROJECT_MARKERS.some((m) => fs.existsSync(join(folder, m)))) return folder;
    const parent = resolve(folder, '..');
    if (parent === folder) return process.cwd();
    folder = parent;
  }
}

/** A source with its file relative to `root` (POSIX separators), absolute when outside it. */
export function relativeSource(source: SourceLocation | null, root: string): SourceLocation | null {
  if (!source?.file) return source;
  const file = resolve(source.file);
  const inside = file === root || file.startsWith(root.endsWith(sep) ? root : root + sep);
  return { ...source, file: inside ? relative(root, file).split(sep).join('/') : file };
}

function newRunDir(script: string | null): string {
  const base = runsFolder();
  fs.mkdirSync(base, { recursive: true });
  const stem =
    basename(script ?? 'node', extname(script ?? ''))
      .replace(/[^A-Za-z0-9_.-]+/g, '-')
      .replace(/^[-.]+|[-.]+$/g, '') || 'run';
  const d = new Date();
  const two = (n: number) => String(n).padStart(2, '0');
  const name = `${d.getFullYear()}${two(d.getMonth() + 1)}${two(d.getDate())}-${two(d.getHours())}${two(d.getMinutes())}${two(d.getSeconds())}-${stem}`;
  for (let n = 1; n < 1000; n++) {
    const dir = join(base, n === 1 ? name : `${name}-${n}`);
    try {
      fs.mkdirSync(dir);
      return dir;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
  throw new Error(`${base}: no free run folder named ${name}-N`);
}

/** ISO 8601 in local time with its UTC offset, as Python's isoformat(timespec='milliseconds'). */
export function localIso(d = new Date()): string {
  const offset = -d.getTimezoneOffset();
  const local = new Date(d.getTime() + offset * 60_000).toISOString().slice(0, 23);
  const two = (n: number) => String(Math.floor(Math.abs(n))).padStart(2, '0');
  return `${local}${offset >= 0 ? '+' : '-'}${two(offset / 60)}:${two(offset % 60)}`;
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
      this.addLoss(step, loss, true);
      this.flushLoss();
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

/** Sample files on disk: one open descriptor per file being appended to. */
class FsRecordStore implements RecordStore {
  private readonly open = new Map<string, number>();

  constructor(private readonly dir: string) {}

  append(file: string, records: readonly StoredRecord[]): void {
    let fd = this.open.get(file);
    if (fd === undefined) {
      fd = fs.openSync(join(this.dir, file), 'ax');
      this.open.set(file, fd);
    }
    fs.writeSync(fd, records.length === 1 ? records[0].data! : Buffer.concat(records.map((r) => r.data!)));
  }

  close(file: string): void {
    const fd = this.open.get(file);
    if (fd !== undefined) fs.closeSync(fd);
    this.open.delete(file);
  }

  closeAll(): void {
    for (const fd of this.open.values()) {
      try {
        fs.closeSync(fd);
      } catch {
        /* already gone */
      }
    }
    this.open.clear();
  }

  read(file: string): StoredRecord[] {
    const data = fs.readFileSync(join(this.dir, file));
    return readRecords(data).records.map((span) => ({
      seq: sampleSeq(data, span),
      size: span.end - span.start + FRAME_BYTES,
      data: data.subarray(span.start - FRAME_BYTES, span.end),
    }));
  }

  remove(file: string): void {
    fs.unlinkSync(join(this.dir, file));
  }

  write(file: string, records: readonly StoredRecord[]): void {
    const path = join(this.dir, file);
    fs.writeFileSync(`${path}.tmp`, Buffer.concat(records.map((r) => r.data!)));
    fs.renameSync(`${path}.tmp`, path);
  }
}
