// The two writers of the run-log format (python/normscope/runlog/writer.py for PyTorch, src/runlog/writer.ts for
// TensorFlow.js) follow one contract, docs/run-log.md: given the same run under a small budget — so that segments age
// into the history, the history is thinned at doubling strides and events protect the samples around them — they
// write the same sample files byte for byte, the same events and strides, and the same loss.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { META_FILE } from '../../src/runlog/format';
import { lossByStep, readRunLog } from '../../src/runlog/read';
import { syntheticRun, writeWithPython, writeWithTs } from './runlog-fixtures';

/** The meta records both writers must agree on: everything but who, where and when. */
function comparable(dir: string): unknown[] {
  return fs
    .readFileSync(path.join(dir, META_FILE), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .filter((r) => r.type !== 'run')
    .map((r) => (r.type === 'end' ? { ...r, time: '' } : r));
}

const sampleFiles = (dir: string) =>
  fs
    .readdirSync(dir)
    .filter((f) => /^(samples|history)-/.test(f))
    .sort();

for (const numpy of [true, false]) {
  test(`TypeScript and Python (${numpy ? 'numpy' : 'loop'} events) write the same log: aging, decimation, event windows`, async (t) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'normscope-conformance-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    // Loss spikes and gradient jumps (low priority) fill the protection budget before the dead layer's onset (high).
    const spikes = [300, 500, 700, 900, 1100, 1300, 2200, 2500];
    const run = syntheticRun({ layers: 6, steps: 3000, seed: 5, dies: { layer: 3, step: 1500 }, spikes, odd: true });
    run.ops.push(['info', { batchSize: 8 }], ['skipped', 12, 'amp-overflow'], ['close', 'closed']);
    const budget = 200_000; // records of 568 bytes: a recent window of ~88 samples, a history of ~240
    const py = path.join(dir, 'py');
    const ts = path.join(dir, 'ts');
    await writeWithPython(run, { dir: py, budget, numpy }, path.join(dir, 'scratch'));
    writeWithTs(run, { dir: ts, budget });

    const files = sampleFiles(ts);
    assert.deepEqual(sampleFiles(py), files);
    assert.ok(
      files.some((f) => f.startsWith('history-')),
      'segments aged into the history',
    );
    for (const file of files)
      assert.ok(fs.readFileSync(path.join(py, file)).equals(fs.readFileSync(path.join(ts, file))), `${file} differs`);

    const meta = comparable(ts);
    assert.deepEqual(comparable(py), meta);
    const strides = meta.filter((r) => (r as { type: string }).type === 'stride');
    assert.ok(strides.length >= 2, `the history was thinned more than once (${strides.length})`);
    const events = meta.filter((r) => (r as { type: string }).type === 'event') as { kind: string; step: number; layer: number | null }[];
    assert.ok(
      events.some((e) => e.kind === 'dead' && e.layer === 3 && e.step === 1500),
      'the dead layer at step 1500 is an event',
    );
    assert.ok(
      events.some((e) => e.kind === 'loss-spike' && e.step === 700),
      'the loss spike at 700 is an event',
    );

    const [a, b] = [readRunLog(py), readRunLog(ts)];
    assert.deepEqual(lossByStep(a), lossByStep(b));
    assert.deepEqual(
      a.samples.map((s) => s.seq),
      b.samples.map((s) => s.seq),
    );
    const kept = new Set(b.samples.map((s) => s.seq));
    const whole = (at: number) => Array.from({ length: 17 }, (_, i) => at - 4 + i).every((seq) => kept.has(seq));
    assert.ok(whole(1500), "every sample around the dead layer's onset is kept");
    assert.ok(whole(300), 'the earliest spike keeps its window');
    const admitted = (step: number) => events.some((e) => e.step === step && (e as { kept?: boolean }).kept);
    assert.ok(admitted(700) && !whole(700), 'the latest spike window admitted before the onset was evicted for it');
    assert.ok(!admitted(1300), 'a spike window that did not fit was not admitted');
    const total = files.reduce((sum, f) => sum + fs.statSync(path.join(ts, f)).size, 0);
    assert.ok(total <= budget, `${total} bytes of samples, budget ${budget}`);
  });
}
