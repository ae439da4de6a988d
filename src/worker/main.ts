/**
 * Entry of `dist/worker.js`, the training process the host forks (src/runner/workerClient.ts).
 * It serves WorkerFunctions over the IPC channel and streams each run's events back through
 * HostFunctions.event. One run at a time; a failing run leaves the process ready for the next.
 */
import { randomUUID } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import { openChannel, WORKER_REQUEST_TIMEOUT_MS, type HostFunctions, type RunOptions, type WorkerFunctions } from '../protocol';
import { runTraining } from './engine';

if (!process.send) {
  process.stderr.write('normscope worker: must be started by the NormScope host with an IPC channel (child_process.fork)\n');
  process.exit(2);
}

let active: { runId: string; controller: AbortController } | null = null;

const host = openChannel<HostFunctions, WorkerFunctions>({
  async start(options: RunOptions) {
    if (active) throw new Error(`a run (${active.runId}) is already in progress; cancel it first`);
    const runId = randomUUID();
    const controller = new AbortController();
    active = { runId, controller };
    // Runs in the background, after this reply has gone out, so the host knows the runId before
    // the first event; every outcome arrives as an event (done or error).
    setImmediate(() => {
      runTraining(options, (event) => host.event(event), controller.signal, runId)
        .catch(() => { /* already reported as an 'error' event */ })
        .finally(() => { if (active?.runId === runId) active = null; });
    });
    return { runId };
  },
  async cancel(runId: string) {
    if (!active || active.runId !== runId) return { cancelled: false };
    active.controller.abort();
    return { cancelled: true };
  },
  async ping() {
    return { pid: process.pid, numTensors: tf.memory().numTensors, rssMB: Math.round(process.memoryUsage().rss / 1048576) };
  },
}, {
  post: (message) => { process.send!(message); },
  listen: (handler) => {
    process.on('message', handler);
    return () => process.off('message', handler);
  },
}, { timeoutMs: WORKER_REQUEST_TIMEOUT_MS, eventNames: ['event'] });

// The host going away (closed IPC) ends the worker; nothing else keeps it alive.
process.on('disconnect', () => process.exit(0));
process.on('uncaughtException', (e) => {
  host.event({ type: 'log', level: 'error', message: `worker: uncaught ${e.stack ?? e.message}` });
});
process.on('unhandledRejection', (e) => {
  host.event({ type: 'log', level: 'error', message: `worker: unhandled rejection ${(e as Error)?.stack ?? String(e)}` });
});
