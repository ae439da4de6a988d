/**
 * Reads a run folder incrementally: only the bytes appended since the last `poll()`, whichever files were added,
 * grown or removed in between (a recent segment aged into the history, the history rewritten at a coarser stride).
 * `readRunLog` polls once; `followRunLog` polls as the run writes. Samples are kept by sequence number: one found in
 * two files (a segment copied into the history, not yet deleted) counts once, and when a file goes, the samples only
 * it held go too, so a followed log stays the size of the log on disk.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import type { LayerInfo, StatName } from '../protocol';
import {
  decodeLoss,
  decodeSample,
  LOSS_FILE,
  META_FILE,
  readLines,
  readRecords,
  RUN_LOG_FORMAT,
  RUN_LOG_VERSION,
  SAMPLE_FILE,
  type LogSample,
  type LossBlock,
  type MetaRecord,
  type RunEndRecord,
  type RunEventRecord,
  type RunRecord,
} from './format';

/** A run log as read so far. */
export interface RunLog {
  dir: string;
  /** The run record, with later `info` records merged in. */
  meta: RunRecord;
  /** The layer table; sources as written (relative to the project root: see `mapSources`). */
  layers: LayerInfo[];
  statNames: StatName[];
  /** Kept samples in step order (decimated history, then the recent window). */
  samples: LogSample[];
  /** Every recorded step's loss, in blocks of consecutive steps. */
  loss: LossBlock[];
  events: RunEventRecord[];
  skipped: { step: number; reason: string }[];
  /** Every `stride`-th aged sample is kept (1 until the history first went over its budget). */
  stride: number;
  /** Null while the run is live, or when it was killed. */
  end: RunEndRecord | null;
  /** Newest modification time of the log's files (ms since the epoch). */
  lastWriteTime: number;
  /** What could not be read (a corrupt line), said once each. */
  warnings: string[];
}

/** What one poll found. */
export interface RunLogChange {
  /** Samples added after the last one (the common case of a live run). */
  appended: number;
  /** Samples were removed or inserted before the end (aging, decimation): redraw from `log.samples`. */
  rebuilt: boolean;
  meta: boolean;
  loss: boolean;
}

export class RunLogError extends Error {}

const MAX_META_LINE = 64 << 20;

export class RunLogScanner {
  log: RunLog | null = null;
  private metaOffset = 0;
  private lossOffset = 0;
  private metaLine = 0;
  private readonly offsets = new Map<string, number>();
  /** seq → the file that last held it. */
  private readonly owner = new Map<number, string>();
  private readonly bySeq = new Map<number, LogSample>();

  constructor(readonly dir: string) {}

  /** Reads what was appended; null change when nothing was. Throws RunLogError when the folder is no run log. */
  poll(): RunLogChange | null {
    const change: RunLogChange = { appended: 0, rebuilt: false, meta: false, loss: false };
    let newest = 0;
    const stamp = (file: string): number => {
      try {
        const t = fs.statSync(join(this.dir, file)).mtimeMs;
        newest = Math.max(newest, t);
        return t;
      } catch {
        return 0;
      }
    };
    change.meta = this.readMeta();
    stamp(META_FILE);
    if (!this.log) return null;
    const log = this.log;
    change.loss = this.readLoss();
    stamp(LOSS_FILE);
    let names: string[];
    try {
      names = fs.readdirSync(this.dir).filter((n) => SAMPLE_FILE.test(n));
    } catch (e) {
      throw new RunLogError(`${this.dir}: ${(e as Error).message}`);
    }
    // History before recent, each by number: a sample is owned by the newest file that holds it.
    names.sort((a, b) => rank(a) - rank(b));
    for (const name of names) {
      const found = this.readSamples(name, change);
      if (found) stamp(name);
    }
    const present = new Set(names);
    for (const name of [...this.offsets.keys()]) {
      if (present.has(name)) continue;
      this.offsets.delete(name);
      for (const [seq, file] of this.owner) {
        if (file !== name) continue;
        this.owner.delete(seq);
        this.bySeq.delete(seq);
        change.rebuilt = true;
      }
    }
    if (change.rebuilt) log.samples = [...this.bySeq.values()].sort((a, b) => a.seq - b.seq);
    if (newest) log.lastWriteTime = Math.max(log.lastWriteTime, newest);
    return change.appended || change.rebuilt || change.meta || change.loss ? change : null;
  }

  private read(file: string, offset: number): Buffer | null {
    let fd: number;
    try {
      fd = fs.openSync(join(this.dir, file), 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new RunLogError(`${join(this.dir, file)}: ${(e as Error).message}`);
    }
    try {
      const size = fs.fstatSync(fd).size;
      if (size <= offset) return null;
      const buf = Buffer.allocUnsafe(size - offset);
      const n = fs.readSync(fd, buf, 0, buf.length, offset);
      return buf.subarray(0, n);
    } finally {
      fs.closeSync(fd);
    }
  }

  private readMeta(): boolean {
    const buf = this.read(META_FILE, this.metaOffset);
    if (!buf) {
      if (this.metaOffset === 0 && !fs.existsSync(join(this.dir, META_FILE))) {
        if (!fs.existsSync(this.dir)) throw new RunLogError(`${this.dir}: no such folder`);
        if (!fs.statSync(this.dir).isDirectory()) throw new RunLogError(`${this.dir}: not a folder`);
      }
      return false;
    }
    const { lines, next } = readLines(buf);
    if (next === 0 && buf.length > MAX_META_LINE) throw new RunLogError(`${join(this.dir, META_FILE)}: no line end in ${buf.length} bytes`);
    this.metaOffset += next;
    for (const line of lines) this.apply(line, ++this.metaLine);
    return lines.length > 0;
  }

  private apply(line: string, number: number): void {
    const where = `${join(this.dir, META_FILE)}:${number}`;
    let record: MetaRecord;
    try {
      record = JSON.parse(line) as MetaRecord;
    } catch {
      if (number === 1) throw new RunLogError(`${where}: not a NormScope run log (the first line is not JSON)`);
      this.warn(`${where}: not JSON, skipped`);
      return;
    }
    if (!this.log) {
      this.log = this.start(record, where);
      return;
    }
    const log = this.log;
    switch (record.type) {
      case 'layers': {
        const added = record.layers.map((l, i) => ({ ...l, index: log.layers.length + i }));
        log.layers.push(...added);
        break;
      }
      case 'info': {
        const { type: _type, ...fields } = record;
        Object.assign(log.meta, fields);
        break;
      }
      case 'skipped':
        log.skipped.push({ step: record.step, reason: record.reason });
        break;
      case 'event':
        log.events.push(record);
        break;
      case 'stride':
        log.stride = record.stride;
        break;
      case 'end':
        log.end = record;
        break;
      default:
        break; // a record type of a later minor version: nothing this reader needs
    }
  }

  private start(record: MetaRecord, where: string): RunLog {
    if (record.type !== 'run' || record.format !== RUN_LOG_FORMAT)
      throw new RunLogError(`${where}: not a NormScope run log (expected a "run" record of format ${RUN_LOG_FORMAT})`);
    if (Math.floor(Number(record.version)) > RUN_LOG_VERSION)
      throw new RunLogError(
        `${where}: written by a newer NormScope (run-log version ${record.version}; this one reads ${RUN_LOG_VERSION})`,
      );
    if (!Array.isArray(record.statNames) || record.statNames.length === 0)
      throw new RunLogError(`${where}: the run record has no statNames`);
    return {
      dir: this.dir,
      meta: { ...record },
      layers: [],
      statNames: record.statNames as StatName[],
      samples: [],
      loss: [],
      events: [],
      skipped: [],
      stride: 1,
      end: null,
      lastWriteTime: 0,
      warnings: [],
    };
  }

  private warn(message: string): void {
    if (!this.log!.warnings.includes(message)) this.log!.warnings.push(message);
  }

  private readLoss(): boolean {
    const buf = this.read(LOSS_FILE, this.lossOffset);
    if (!buf) return false;
    const { records, next } = readRecords(buf);
    this.lossOffset += next;
    for (const span of records) {
      const block = decodeLoss(buf, span);
      if (block) this.log!.loss.push(block);
      else this.warn(`${join(this.dir, LOSS_FILE)}: a malformed loss record, skipped`);
    }
    return records.length > 0;
  }

  /** Reads the new records of one sample file; false when it had none. */
  private readSamples(name: string, change: RunLogChange): boolean {
    const log = this.log!;
    const offset = this.offsets.get(name) ?? 0;
    this.offsets.set(name, offset);
    const buf = this.read(name, offset);
    if (!buf) return false;
    const { records, next } = readRecords(buf);
    this.offsets.set(name, offset + next);
    const width = log.statNames.length;
    for (const span of records) {
      const sample = decodeSample(buf, span, width);
      if (!sample) {
        this.warn(`${join(this.dir, name)}: a sample record that is not rows of ${width} statistics, skipped`);
        continue;
      }
      // A history file's copy outlives the recent segment it came from; a later history file replaces an earlier one.
      const owner = this.owner.get(sample.seq);
      if (!owner || name.startsWith('history') || !owner.startsWith('history')) this.owner.set(sample.seq, name);
      if (this.bySeq.has(sample.seq)) continue;
      this.bySeq.set(sample.seq, sample);
      const last = log.samples[log.samples.length - 1];
      if (!last || sample.seq > last.seq) {
        log.samples.push(sample);
        change.appended++;
      } else {
        change.rebuilt = true; // an older sample first seen now (a folder read mid-rewrite): sorted at the end of the poll
      }
    }
    return records.length > 0;
  }
}

/** History files sort before recent ones, each by its number. */
function rank(name: string): number {
  const m = SAMPLE_FILE.exec(name)!;
  return (m[1] === 'history' ? 0 : 1e12) + Number(m[2]);
}
