// The run log across the two languages: what python/normscope/runlog/writer.py writes, src/runlog reads back exactly
// (values bit-equal as float32, NaN and Inf kept, a layer table that grows), and a log cut at any byte of its tail
// (a job killed mid-write) reads up to its last whole record, never an error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { STAT_NAMES } from '../../src/protocol';
import { decodeLoss, LOSS_FILE, META_FILE, readRecords } from '../../src/runlog/format';
import { localRoot, lossByStep, mapSources, readRunLog } from '../../src/runlog/read';
import { syntheticRun, writeWithPython, type Run } from './runlog-fixtures';

const W = STAT_NAMES.length;

function scratch(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'normscope-runlog-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The float32 bits of `x`, with every NaN the same (a NaN's payload is not part of the contract). */
function bits(x: number): number {
  return Number.isNaN(x) ? -1 : new Uint32Array(new Float32Array([x]).buffer)[0];
}

function expectedSamples(run: Run) {
  return run.ops.flatMap((op) =>
    op[0] === 'sample' ? [{ step: op[1], loss: run.pool[op[2]], values: run.pool.slice(op[4], op[4] + op[5]) }] : [],
  );
}

test('what the Python writer writes, the reader reads: values bit-equal as float32, NaN/Inf/-0/subnormals kept, the table grows', async (t) => {
  const dir = scratch(t);
  const run = syntheticRun({ layers: 3, steps: 60, every: 3, odd: true, grows: { step: 30, layers: 2 }, file: '/project/pkg/model.py' });
  run.ops.push(['skipped', 7, 'amp-overflow'], ['info', { batchSize: 16 }], ['close', 'closed']);
  await writeWithPython(
    run,
    { dir: path.join(dir, 'run'), projectRoot: '/project', script: '/project/train.py', meta: { every: 3 } },
    path.join(dir, 'py'),
  );
  const log = readRunLog(path.join(dir, 'run'));

  assert.equal(log.meta.engine, 'pytorch');
  assert.equal(log.meta.file, 'train.py', 'the script relative to the project root');
  assert.equal(log.meta.projectRoot, '/project');
  assert.equal(log.meta.every, 3);
  assert.equal(log.meta.batchSize, 16, 'info records merge into the run record');
  assert.deepEqual(log.statNames, [...STAT_NAMES]);
  assert.deepEqual(log.skipped, [{ step: 7, reason: 'amp-overflow' }]);
  assert.equal(log.end?.reason, 'closed');
  assert.equal(log.end?.samples, 20);

  assert.deepEqual(
    log.layers.map((l) => [l.index, l.name, l.source?.file, l.source?.line]),
    [0, 1, 2, 3, 4].map((i) => [i, i % 2 ? `act${i}` : `fc${i}`, 'pkg/model.py', 10 + i]),
    'five layers, the last two joining at step 30, sources relative to the project root',
  );
  const mapped = mapSources(log, '/elsewhere/checkout');
  assert.equal(mapped[0].source?.file, path.resolve('/elsewhere/checkout/pkg/model.py'), 'mapped onto another machine’s root');

  const expected = expectedSamples(run);
  assert.equal(log.samples.length, expected.length);
  log.samples.forEach((s, i) => {
    const want = expected[i];
    assert.equal(s.seq, i);
    assert.equal(s.step, want.step);
    assert.equal(s.values.length, want.values.length, `sample ${i}: rows × ${W} values as measured then`);
    assert.deepEqual([...s.values].map(bits), want.values.map(bits), `sample ${i} (step ${s.step}) differs`);
  });
  assert.equal(log.samples[9].values.length, 3 * W, 'before the table grew: 3 rows');
  assert.equal(log.samples[10].values.length, 5 * W, 'from step 30: 5 rows');
  assert.ok(
    log.samples.some((s) => [...s.values].some((v) => v === Infinity)),
    'Inf kept (1e39 is beyond float32)',
  );
  assert.ok(
    log.samples.some((s) => [...s.values].some((v) => Object.is(v, -0))),
    '-0 kept',
  );

  const loss = lossByStep(log);
  assert.equal(loss.length, 60, 'every step has its loss, sampled or not');
  run.ops.forEach((op) => {
    if (op[0] === 'loss' || op[0] === 'sample') assert.equal(loss[op[1]], Math.fround(run.pool[op[2]]), `loss of step ${op[1]}`);
  });
});

test('the numpy and the loop paths of the Python events write the same files', async (t) => {
  const dir = scratch(t);
  const run = syntheticRun({ layers: 80, steps: 120, odd: true, dies: { layer: 5, step: 60 }, spikes: [40, 90] });
  run.ops.push(['close', 'closed']);
  await writeWithPython(run, { dir: path.join(dir, 'np'), budget: 2_000_000 }, path.join(dir, 'a'));
  await writeWithPython(run, { dir: path.join(dir, 'loop'), budget: 2_000_000, numpy: false }, path.join(dir, 'b'));
  const events = (d: string) =>
    fs
      .readFileSync(path.join(dir, d, META_FILE), 'utf8')
      .split('\n')
      .filter((l) => l.includes('"type":"event"'));
  assert.ok(events('np').length > 3, 'the run raises events');
  assert.deepEqual(events('loop'), events('np'));
  for (const file of fs.readdirSync(path.join(dir, 'np')).filter((f) => f.endsWith('.bin'))) {
    assert.ok(fs.readFileSync(path.join(dir, 'np', file)).equals(fs.readFileSync(path.join(dir, 'loop', file))), file);
  }
});

/** A copy of the run folder `from` in `to` with `file` cut to `length` bytes (the other files as they are). */
function truncatedCopy(from: string, to: string, file: string, length: number): void {
  if (!fs.existsSync(to)) fs.cpSync(from, to, { recursive: true });
  for (const name of fs.readdirSync(from)) {
    const data = fs.readFileSync(path.join(from, name));
    fs.writeFileSync(path.join(to, name), name === file ? data.subarray(0, length) : data);
  }
}

test('a log cut at every byte of its tail reads up to its last whole record (a job killed mid-write)', async (t) => {
  const dir = scratch(t);
  const run = syntheticRun({ layers: 2, steps: 12, every: 2 });
  run.ops.push(['close', 'closed']);
  const full = path.join(dir, 'run');
  await writeWithPython(run, { dir: full }, path.join(dir, 'py'));
  const cut = path.join(dir, 'cut');

  const samples = fs.readFileSync(path.join(full, 'samples-000001.bin'));
  const ends = readRecords(samples).records.map((r) => r.end);
  assert.equal(ends.length, 6);
  for (let length = ends[3]; length <= samples.length; length++) {
    truncatedCopy(full, cut, 'samples-000001.bin', length);
    const log = readRunLog(cut);
    assert.equal(log.samples.length, ends.filter((e) => e <= length).length, `samples file cut at ${length}`);
    assert.deepEqual(
      log.samples.map((s) => s.step),
      [0, 2, 4, 6, 8, 10].slice(0, log.samples.length),
    );
  }

  // Losses go out in blocks (each second, and at the end); a cut block's steps fall back on their samples' losses.
  const loss = fs.readFileSync(path.join(full, LOSS_FILE));
  const blocks = readRecords(loss).records.map((r) => decodeLoss(loss, r)!);
  for (let length = readRecords(loss).records.at(-1)!.start - 8; length <= loss.length; length++) {
    truncatedCopy(full, cut, LOSS_FILE, length);
    const whole = blocks.filter((_, i) => readRecords(loss).records[i].end <= length);
    const expected = new Set([0, 2, 4, 6, 8, 10, ...whole.flatMap((b) => Array.from(b.values, (_, i) => b.firstStep + i))]);
    const got = lossByStep(readRunLog(cut)).flatMap((v, step) => (v === null ? [] : [step]));
    assert.deepEqual(
      got,
      [...expected].sort((a, b) => a - b),
      `loss file cut at ${length}`,
    );
  }

  const meta = fs.readFileSync(path.join(full, META_FILE));
  const lastLine = meta.lastIndexOf(10, meta.length - 2) + 1;
  for (let length = lastLine; length <= meta.length; length++) {
    truncatedCopy(full, cut, META_FILE, length);
    const log = readRunLog(cut);
    assert.equal(
      log.end?.reason,
      length === meta.length ? 'closed' : undefined,
      `meta.jsonl cut at ${length}: a partial last line is not there yet`,
    );
    assert.equal(log.samples.length, 6);
  }

  // A flipped byte in the last record (a torn write after a machine crash): that record fails its CRC and is not read.
  fs.rmSync(cut, { recursive: true, force: true });
  fs.cpSync(full, cut, { recursive: true });
  const damaged = Buffer.from(samples);
  damaged[damaged.length - 5] ^= 0xff;
  fs.writeFileSync(path.join(cut, 'samples-000001.bin'), damaged);
  assert.equal(readRunLog(cut).samples.length, 5);
});

test('a folder without a run log is a clear error, and runs copied into .normscope/runs map onto that checkout', async (t) => {
  const dir = scratch(t);
  assert.throws(() => readRunLog(path.join(dir, 'nothing')), /nothing: no such folder/);
  fs.mkdirSync(path.join(dir, 'empty'));
  assert.throws(() => readRunLog(path.join(dir, 'empty')), /not a NormScope run \(no meta\.jsonl/);
  fs.writeFileSync(path.join(dir, 'empty', META_FILE), '{"type":"run","format":"something-else"}\n');
  assert.throws(() => readRunLog(path.join(dir, 'empty')), /meta\.jsonl:1: not a NormScope run log/);
  fs.writeFileSync(path.join(dir, 'empty', META_FILE), '{"type":"run","format":"normscope-run-log","version":2,"statNames":["mean"]}\n');
  assert.throws(() => readRunLog(path.join(dir, 'empty')), /newer NormScope \(run-log version 2; this one reads 1\)/);

  const checkout = path.join(dir, 'checkout');
  const run = syntheticRun({ layers: 2, steps: 3, file: '/cluster/home/me/project/model.py' });
  const runDir = path.join(checkout, '.normscope', 'runs', 'copied');
  await writeWithPython(run, { dir: runDir, projectRoot: '/cluster/home/me/project' }, path.join(dir, 'py'));
  const log = readRunLog(runDir);
  assert.equal(localRoot(log), checkout);
  assert.equal(mapSources(log, localRoot(log))[1].source?.file, path.join(checkout, 'model.py'));
  assert.equal(localRoot(log, '/explicit'), path.resolve('/explicit'));
});
