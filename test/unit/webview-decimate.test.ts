import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IncrementalDecimator, decimateMinMax, pointsPerSeries } from '../../webview/decimate';

const range = (n: number) => Float64Array.from({ length: n }, (_, i) => i);

test('short series are returned exactly, NaN as gaps', () => {
  const ys = Float64Array.from([1, Number.NaN, 3]);
  assert.deepEqual(decimateMinMax(range(3), ys, 3, 10), [
    { x: 0, y: 1 },
    { x: 1, y: null },
    { x: 2, y: 3 },
  ]);
});

test('only the first n points are used (store arrays have spare capacity)', () => {
  assert.equal(decimateMinMax(range(100), range(100), 5, 10).length, 5);
});

test('long series stay within budget, keep the recent points exactly and x sorted', () => {
  const n = 1000;
  const ys = Float64Array.from({ length: n }, (_, i) => Math.sin(i / 7));
  const out = decimateMinMax(range(n), ys, n, 100, { keepRecent: 25 });
  assert.ok(out.length <= 100, `got ${out.length}`);
  assert.deepEqual(
    out.slice(-25).map((p) => p.x),
    Array.from({ length: 25 }, (_, i) => n - 25 + i),
  );
  for (let i = 1; i < out.length; i++) assert.ok(out[i].x > out[i - 1].x, `x not increasing at ${i}`);
  assert.ok(out[0].x < 32, 'first point comes from the first bucket');
});

test('a single spike in old history survives decimation', () => {
  const n = 5000;
  const ys = new Float64Array(n).fill(1);
  ys[1234] = 1e6;
  ys[2345] = -50;
  const out = decimateMinMax(range(n), ys, n, 200);
  assert.ok(
    out.some((p) => p.x === 1234 && p.y === 1e6),
    'max spike kept',
  );
  assert.ok(
    out.some((p) => p.x === 2345 && p.y === -50),
    'min spike kept',
  );
});

test('bucket edges are stable as points are appended (old output does not jitter)', () => {
  const ys = Float64Array.from({ length: 3000 }, (_, i) => Math.cos(i) * i);
  const a = decimateMinMax(range(3000), ys, 2000, 400, { keepRecent: 50 });
  const b = decimateMinMax(range(3000), ys, 2010, 400, { keepRecent: 50 });
  // Same bucket width → every complete old bucket is identical.
  const firstDiff = a.findIndex((p, i) => b[i] === undefined || b[i].x !== p.x || b[i].y !== p.y);
  assert.ok(firstDiff > a.length - 60, `first difference at ${firstDiff} of ${a.length}`);
});

test('positiveOnly turns values ≤ 0 into gaps for log axes', () => {
  const out = decimateMinMax(range(3), Float64Array.from([0, -1, 5]), 3, 10, { positiveOnly: true });
  assert.deepEqual(
    out.map((p) => p.y),
    [null, null, 5],
  );
});

test('all-missing bucket draws a gap', () => {
  const ys = new Float64Array(400).fill(Number.NaN);
  ys[399] = 2;
  const out = decimateMinMax(range(400), ys, 400, 20, { keepRecent: 2 });
  assert.ok(out.length <= 20);
  assert.equal(out[0].y, null);
  assert.equal(out[out.length - 1].y, 2);
});

test('rejects a budget too small to hold min and max', () => {
  assert.throws(() => decimateMinMax(range(10), range(10), 10, 2), /budget must be an integer ≥ 4/);
});

test('pointsPerSeries splits a chart budget across layers within bounds', () => {
  assert.equal(pointsPerSeries(24000, 200), 120);
  assert.equal(pointsPerSeries(24000, 2), 2000);
  assert.equal(pointsPerSeries(24000, 5000), 32);
});

test('incremental decimation of a growing series equals decimating from scratch', () => {
  const total = 3000;
  const xs = range(total);
  const ys = Float64Array.from({ length: total }, (_, i) => (i % 97 === 0 ? Number.NaN : Math.sin(i / 13) * (1 + i / 100)));
  const inc = new IncrementalDecimator();
  for (let n = 1; n <= total; n += 37) {
    assert.deepEqual(inc.decimate(xs, ys, n, 120, {}, 'e'), decimateMinMax(xs, ys, n, 120), `n = ${n}`);
  }
});

test('changing the epoch discards cached buckets (values were rewritten)', () => {
  const xs = range(1000);
  const ys = Float64Array.from({ length: 1000 }, (_, i) => i);
  const inc = new IncrementalDecimator();
  inc.decimate(xs, ys, 1000, 100, {}, 0);
  ys[10] = 1e9;
  assert.ok(!inc.decimate(xs, ys, 1000, 100, {}, 0).some((p) => p.y === 1e9), 'same epoch keeps the cache');
  assert.ok(
    inc.decimate(xs, ys, 1000, 100, {}, 1).some((p) => p.y === 1e9),
    'new epoch recomputes',
  );
});
