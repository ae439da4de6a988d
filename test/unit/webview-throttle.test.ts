import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Throttle, type Clock } from '../../webview/throttle';

function fakeClock() {
  let now = 0;
  let timers: { at: number; fn: () => void; id: number }[] = [];
  let next = 1;
  const clock: Clock = {
    now: () => now,
    setTimeout: (fn, ms) => {
      const id = next++;
      timers.push({ at: now + ms, fn, id });
      return id;
    },
    clearTimeout: (id) => {
      timers = timers.filter((t) => t.id !== id);
    },
  };
  const advance = (ms: number) => {
    const end = now + ms;
    for (;;) {
      timers.sort((a, b) => a.at - b.at);
      const t = timers[0];
      if (!t || t.at > end) break;
      timers.shift();
      now = t.at;
      t.fn();
    }
    now = end;
  };
  return { clock, advance };
}

test('bursts of requests redraw at most once per interval, and the last request is never lost', () => {
  const { clock, advance } = fakeClock();
  const runs: number[] = [];
  const t = new Throttle(() => runs.push(clock.now()), 34, clock);
  for (let ms = 0; ms < 1000; ms += 2) {
    t.request();
    advance(2);
  } // 500 requests in one second
  advance(100);
  assert.ok(runs.length <= 31, `${runs.length} redraws in ~1 s`);
  for (let i = 1; i < runs.length; i++) assert.ok(runs[i] - runs[i - 1] >= 34);
  assert.ok(runs[runs.length - 1] >= 998 - 34, 'a redraw happened after the last request');
  assert.equal(t.pending, false);
});

test('flush runs a pending redraw immediately, and does nothing when none is pending', () => {
  const { clock, advance } = fakeClock();
  let runs = 0;
  const t = new Throttle(() => runs++, 34, clock);
  t.request();
  advance(0);
  assert.equal(runs, 1);
  t.request();
  assert.equal(t.pending, true);
  t.flush();
  assert.equal(runs, 2);
  t.flush();
  advance(100);
  assert.equal(runs, 2);
});
