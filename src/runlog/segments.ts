/**
 * Where a run log's sample records go (docs/run-log.md "Retention"): appended to the current recent segment
 * (`samples-N.bin`); a segment that reached its size is closed; while the closed ones without the oldest still fill the
 * recent window, the oldest is aged: its kept records are appended to the history (`history-N.bin`, a new file once the current one
 * is full) and it is deleted; while the history is over its budget, the stride doubles and the history is rewritten
 * (new files written whole, then the old ones deleted). The same steps as python/normscope/runlog/writer.py.
 * Pure over a RecordStore: the writer's store is the file system; the size model of test/unit/runlog-retention.test.ts
 * keeps only sizes, to run a million samples of 500 layers in seconds.
 */
import type { Retention } from './retention';

export interface StoredRecord {
  seq: number;
  /** Bytes of the whole record, frame included. */
  size: number;
  /** The record itself (absent in a size model). */
  data?: Buffer;
}

export interface RecordStore {
  /** Appends to `file`, creating it when new. */
  append(file: string, records: readonly StoredRecord[]): void;
  /** No more appends to `file`. */
  close(file: string): void;
  read(file: string): StoredRecord[];
  remove(file: string): void;
  /** Writes `file` whole (a temporary file renamed into place, so a reader sees all of it or nothing). */
  write(file: string, records: readonly StoredRecord[]): void;
}

const name = (kind: 'samples' | 'history', n: number) => `${kind}-${String(n).padStart(6, '0')}.bin`;
const total = (files: readonly { size: number }[]) => files.reduce((sum, f) => sum + f.size, 0);

export class SampleSegments {
  private segment: { name: string; size: number } | null = null;
  private segmentN = 0;
  private readonly recent: { name: string; size: number }[] = [];
  private history: { name: string; size: number }[] = [];
  /** The history file still open for appends. */
  private historyOpen = false;
  private historyN = 0;

  constructor(
    private readonly retention: Retention,
    private readonly store: RecordStore,
    private readonly onStride: (stride: number) => void,
  ) {}

  /** Bytes in the recent segments and in the history now. */
  get bytes(): { recent: number; history: number } {
    return { recent: total(this.recent) + (this.segment?.size ?? 0), history: total(this.history) };
  }

  add(record: StoredRecord): void {
    if (!this.segment) this.segment = { name: name('samples', ++this.segmentN), size: 0 };
    this.store.append(this.segment.name, [record]);
    this.segment.size += record.size;
    const r = this.retention;
    if (this.segment.size < r.segmentLimit) return;
    this.store.close(this.segment.name);
    this.recent.push(this.segment);
    this.segment = null;
    // The oldest goes once the others still fill the window: the newest recentLimit bytes are always whole.
    while (total(this.recent) - this.recent[0].size >= r.recentLimit) this.age(this.recent.shift()!.name);
  }

  /** Closes the open files (the writer's end). */
  close(): void {
    if (this.segment) this.store.close(this.segment.name);
    if (this.historyOpen) this.store.close(this.history[this.history.length - 1].name);
    this.segment = null;
    this.historyOpen = false;
  }

  /** A recent segment leaves the window: its kept records go to the history, then it is deleted. */
  private age(file: string): void {
    const kept = this.store.read(file).filter((rec) => this.retention.keeps(rec.seq));
    if (kept.length) this.appendHistory(kept);
    this.store.remove(file);
    while (total(this.history) > this.retention.historyLimit) {
      if (!this.decimate(this.retention.stride * 2)) break;
    }
  }

  private appendHistory(records: StoredRecord[]): void {
    const size = total(records);
    const last = this.history[this.history.length - 1];
    if (this.historyOpen && last.size > 0 && last.size + size > this.retention.segmentLimit) {
      this.store.close(last.name);
      this.historyOpen = false;
    }
    if (!this.historyOpen) {
      this.history.push({ name: name('history', ++this.historyN), size: 0 });
      this.historyOpen = true;
    }
    const current = this.history[this.history.length - 1];
    this.store.append(current.name, records);
    current.size += size;
  }

  /** Rewrites the history at `stride`; false when that freed nothing (only protected samples are left). */
  private decimate(stride: number): boolean {
    const before = total(this.history);
    const old = this.history;
    if (this.historyOpen) this.store.close(old[old.length - 1].name);
    this.historyOpen = false;
    this.history = [];
    let out: StoredRecord[] = [];
    let size = 0;
    const flush = () => {
      const file = name('history', ++this.historyN);
      this.store.write(file, out);
      this.history.push({ name: file, size });
      out = [];
      size = 0;
    };
    for (const file of old) {
      for (const rec of this.store.read(file.name)) {
        if (!this.retention.keeps(rec.seq, stride)) continue;
        out.push(rec);
        size += rec.size;
        if (size >= this.retention.segmentLimit) flush();
      }
    }
    if (out.length) flush();
    for (const file of old) this.store.remove(file.name);
    this.retention.stride = stride;
    this.onStride(stride);
    return total(this.history) < before;
  }
}
