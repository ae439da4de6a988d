// The host-side client with a real forked worker (dist/worker.js): results, user errors, time
// limit, cancel, crashes and timeouts all end in a settled promise and a usable client.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { RequestTimeoutError } from '../../src/protocol';
import { RunFailedError, runErrorOf } from '../../src/runner/runFailedError';
import { WorkerClient, type WorkerClientOptions } from '../../src/runner/workerClient';
import { fixture, runOptions, WORKER } from './engine-fixtures';

/** A client of a real worker, disposed when the test ends, pass or fail. */
function client(t: TestContext, options: Partial<WorkerClientOptions> = {}): WorkerClient {
  const c = new WorkerClient({ workerPath: WORKER, runTimeoutMs: 60_000, ...options });
  t.after(() => c.dispose());
  return c;
}

async function rejection(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (e) {
    assert.ok(e instanceof RunFailedError, `expected a RunFailedError, got ${String(e)}`);
    return e.runError;
  }
  assert.fail('expected the run to fail');
}

test('a run through the forked worker streams events and resolves with the report', async (t) => {
  const c = client(t);
  const types: string[] = [];
  const report = await c.run(runOptions(fixture('module-exports-model.js'), { steps: 4 }), (e) => types.push(e.type));
  assert.equal(report.loss.length, 4);
  assert.deepEqual([types[0], types[1], types[types.length - 1]], ['backend', 'layers', 'done']);
  assert.equal((await c.ping()).numTensors, 0, 'no tensors left in the worker');
});

test('a model that throws rejects with its RunError; the next run works in the same worker', async (t) => {
  const c = client(t);
  const { pid } = await c.ping();
  const error = await rejection(c.run(runOptions(fixture('errors/factory-throws.js')), () => undefined));
  assert.equal(error.code, 'factory-threw');
  assert.equal(error.line, 5);
  const nan = await c.run(runOptions(fixture('nan-loss.js')), () => undefined);
  assert.match(nan.stoppedEarly!, /non-finite/);
  assert.equal((await c.ping()).pid, pid, 'same worker process');
});

test('a model that loops forever hits the time limit; the worker is replaced', async (t) => {
  const c = client(t, { runTimeoutMs: 1500 });
  const { pid } = await c.ping();
  const started = Date.now();
  const error = await rejection(c.run(runOptions(fixture('errors/infinite-loop.js')), () => undefined));
  assert.equal(error.code, 'timeout');
  assert.ok(Date.now() - started < 3000);
  const report = await c.run(runOptions(fixture('module-exports-model.js')), () => undefined);
  assert.equal(report.loss.length, 3);
  assert.notEqual((await c.ping()).pid, pid, 'restarted on next use');
});

test('cancel stops a running model within 1 s (done with stoppedEarly)', async (t) => {
  const c = client(t);
  const controller = new AbortController();
  let cancelledAt = 0;
  const run = c.run(runOptions(fixture('slow-model.js'), { steps: 100000 }), (e) => {
    if (e.type === 'progress' && !cancelledAt) {
      cancelledAt = Date.now();
      controller.abort();
    }
  }, controller.signal);
  const report = await run;
  assert.equal(report.stoppedEarly, 'cancelled');
  assert.ok(Date.now() - cancelledAt < 1000, `took ${Date.now() - cancelledAt} ms`);
});

test('cancel of a stuck worker kills it within 1 s and rejects with "cancelled"', async (t) => {
  const c = client(t);
  await c.ping();
  const controller = new AbortController();
  const run = c.run(runOptions(fixture('errors/infinite-loop.js')), () => undefined, controller.signal);
  await new Promise((r) => setTimeout(r, 300));
  const cancelledAt = Date.now();
  controller.abort();
  const error = await rejection(run);
  assert.equal(error.code, 'cancelled');
  assert.ok(Date.now() - cancelledAt < 1000, `took ${Date.now() - cancelledAt} ms`);
});

test('requests time out and reject; pending requests reject when the worker exits', async (t) => {
  // Long enough for the worker to start (the first ping waits for it), short for a test.
  const c = client(t, { requestTimeoutMs: 2500 });
  const { pid } = await c.ping();
  const stuck = c.run(runOptions(fixture('errors/infinite-loop.js')), () => undefined);
  await new Promise((r) => setTimeout(r, 500));
  await assert.rejects(c.ping(), RequestTimeoutError);
  const pending = c.ping();
  process.kill(pid, 'SIGKILL');
  await assert.rejects(pending, /exited/);
  const error = await rejection(stuck);
  assert.equal(error.code, 'crash');
});

test('running out of memory is reported as "oom", not as a dead host', async (t) => {
  const c = client(t, { maxMemoryMB: 96 });
  const error = await rejection(c.run(runOptions(fixture('errors/out-of-memory.js')), () => undefined));
  assert.equal(error.code, 'oom');
  assert.equal(runErrorOf(new RunFailedError(error)).code, 'oom');
});
