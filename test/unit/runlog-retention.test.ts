// The run log stays bounded (docs/run-log.md "Retention"): the writers' own retention (src/runlog/segments.ts,
// retention.ts — the Python writer follows the same steps, runlog-conformance.test.ts) run on a size model of the
// files, a million samples of a 500-layer model, one per step: the samples stay within the budget at every step, the
// recent window is whole, the run's start and the windows around events are kept, the rest thinned evenly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { STAT_NAMES } from '../../src/protocol';
import { eventPriority } from '../../src/runlog/events';
import { FRAME_BYTES, SAMPLE_HEAD_BYTES } from '../../src/runlog/format';
import { DEFAULT_BUDGET_BYTES, Retention } from '../../src/runlog/retention';
import { SampleSegments, type RecordStore, type StoredRecord } from '../../src/runlog/segments';

/** Files as lists of (seq, size): the store the writers use, without the bytes. */
class SizeStore implements RecordStore {
  readonly files = new Map<string, StoredRecord[]>();
  readonly open = new Set<string>();
  append(file: string, records: readonly StoredRecord[]): void {
    if (!this.files.has(file)) this.files.set(file, []);
    this.files.get(file)!.push(...records.map(({ seq, size }) => ({ seq, size })));
    this.open.add(file);
  }
  close(file: string): void {
    this.open.delete(file);
  }
  read(file: string): StoredRecord[] {
    return [...this.files.get(file)!];
  }
  remove(file: string): void {
    this.files.delete(file);
  }
  write(file: string, records: readonly StoredRecord[]): void {
    assert.ok(!this.files.has(file), `${file} is written whole once`);
    this.files.set(file, [...records]);
  }
  get bytes(): number {
    let sum = 0;
    for (const records of this.files.values()) for (const r of records) sum += r.size;
    return sum;
  }
  seqs(): number[] {
    return [...this.files.values()].flatMap((records) => records.map((r) => r.seq)).sort((a, b) => a - b);
  }
}

const LAYERS = 500;
const RECORD = FRAME_BYTES + SAMPLE_HEAD_BYTES + 4 * LAYERS * STAT_NAMES.length;
const STEPS = 1_000_000;

test('a million steps of 500 layers sampled at every step: samples within the budget, recent window whole, events and start kept', () => {
  const retention = new Retention(DEFAULT_BUDGET_BYTES);
  const store = new SizeStore();
  const strides: number[] = [];
  const segments = new SampleSegments(retention, store, (s) => strides.push(s));
  // A noisy run: a loss spike every 5,000 steps (low priority), layers dying at steps 300,000 and 800,000 (high).
  const onsets = [300_000, 800_000];
  let most = 0;
  for (let seq = 0; seq < STEPS; seq++) {
    if (seq % 5000 === 2500) retention.protect(seq, RECORD, eventPriority('loss-spike'));
    if (onsets.includes(seq)) assert.ok(retention.protect(seq, RECORD, eventPriority('dead')), `the onset at ${seq} is protected`);
    segments.add({ seq, size: RECORD });
    if (seq % 97 === 0) {
      const { recent, history } = segments.bytes;
      most = Math.max(most, recent + history);
    }
  }
  const { recent, history } = segments.bytes;
  assert.equal(recent + history, store.bytes, 'the bookkeeping matches the files');
  most = Math.max(most, store.bytes);
  assert.ok(most <= DEFAULT_BUDGET_BYTES, `at most ${most} bytes of samples, budget ${DEFAULT_BUDGET_BYTES}`);
  assert.ok(store.files.size < 40, `${store.files.size} files`);

  const seqs = store.seqs();
  assert.equal(new Set(seqs).size, seqs.length, 'each sample once');
  const have = new Set(seqs);
  const window = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i).every((s) => have.has(s));
  const recentSamples = Math.floor(retention.recentLimit / RECORD);
  assert.ok(window(STEPS - recentSamples, STEPS - 1), `the last ${recentSamples} samples are all there`);
  assert.ok(window(0, 31), 'the run’s first 32 samples are kept');
  for (const onset of onsets) assert.ok(window(onset - 4, onset + 12), `every sample from ${onset - 4} to ${onset + 12} is kept`);

  const stride = retention.stride;
  assert.deepEqual(
    strides,
    strides.map((_, i) => 2 ** (i + 1)),
    'the stride doubles',
  );
  const aged = [...store.files].filter(([name]) => name.startsWith('history-')).flatMap(([, records]) => records.map((r) => r.seq));
  const thinned = aged.filter((s) => !retention.isProtected(s));
  // Samples of a window that a later, higher-priority event evicted stay until the next thinning (two onsets: 2 × 17).
  const off = thinned.filter((s) => s % stride !== 0);
  assert.ok(off.length <= 34, `the unprotected history is every ${stride}th sample (${off.length} left from evicted windows)`);
  const all = [...aged].sort((a, b) => a - b);
  const gaps = all.slice(1).map((s, i) => s - all[i]);
  assert.equal(Math.max(...gaps), stride, 'evenly: no gap in the history wider than the stride');
  assert.ok(thinned.length > 500, `${thinned.length} samples span the whole run at stride ${stride}`);

  // The whole folder: samples, plus the loss of every step (4 bytes each, a block each second) and the meta lines
  // (at most 8 events per kind and layer: 10 kinds × 500 layers, ~120 bytes each, plus the layer table).
  const loss = 4 * STEPS + 20 * 100_000;
  const meta = 8 * 10 * LAYERS * 120 + LAYERS * 300 + 10_000;
  assert.ok(most + loss + meta <= 200e6, `${((most + loss + meta) / 1e6).toFixed(1)} MB in all`);
});
