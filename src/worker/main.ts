/**
 * Entry of `dist/worker.js`, the training process the host forks (src/runner/workerClient.ts).
 *
 * This main thread never runs user code: it serves WorkerFunctions over the IPC channel and runs each
 * run's user code and tfjs in a `worker_threads` thread (./thread), which it can terminate at once. So
 * whatever the model does — `for(;;){}`, a 1 GB Buffer, a throw from a timer — this thread still
 * watches the parent (exits within 2 s of it dying, however it died), the run's time limit, the
 * process's resident memory, and cancel, and ends the run. A thread serves the next run only when its
 * run ended by itself and left no timer or handle behind (so no late callback of one model can fail the
 * next); otherwise it is terminated and a fresh one is warmed up (tfjs, backend) while the host is idle.
 */
import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import {
  openChannel,
  WORKER_REQUEST_TIMEOUT_MS,
  type HostFunctions,
  type PreparedModule,
  type RunError,
  type RunOptions,
  type WorkerFunctions,
} from '../protocol';
import type { FromThread, ToThread } from './threadMessages';

if (!process.send) {
  process.stderr.write('normscope worker: must be started by the NormScope host with an IPC channel (child_process.fork)\n');
  process.exit(2);
}

/** How long a cancelled run may take to stop at a step boundary before its thread is terminated. */
const CANCEL_GRACE_MS = 300;
/** How often the parent, memory and time limits are checked. */
const WATCH_INTERVAL_MS = 100;

function flagValue(name: string): number | undefined {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
  const value = arg ? Number(arg.slice(name.length + 3)) : NaN;
  return Number.isFinite(value) && value > 0 ? value : undefined;
}
const limits = { memoryMB: flagValue('max-memory-mb'), timeoutMs: flagValue('timeout-ms') };

interface Thread {
  worker: Worker;
  /** Terminated (or being terminated): whatever it still sends is ignored. */
  retired: boolean;
}

interface ActiveRun {
  runId: string;
  thread: Thread;
  startedAt: number;
  cancelTimer?: NodeJS.Timeout;
  /** Its `done` or `error` went to the host, which may start the next run before the thread has wound down. */
  reported: boolean;
  /** Resolves when the run is no longer active (its thread finished, or it was ended). */
  over: Promise<void>;
  markOver: () => void;
}

/** How long a new run waits for the thread of a run that already reported its end to wind down. */
const WIND_DOWN_MS = 2000;

let spare: Thread | null = null;
/**
 * A training script runs in its own folder (`node train.js` from there). Threads cannot chdir, and the
 * process shares one working directory, so this thread changes it for the run and puts it back after.
 */
let cwdBeforeScript: string | null = null;
function restoreCwd(): void {
  if (cwdBeforeScript === null) return;
  try {
    process.chdir(cwdBeforeScript);
  } catch {
    /* the old folder is gone; stay */
  }
  cwdBeforeScript = null;
}
let active: ActiveRun | null = null;
let lastNumTensors = 0;

function startThread(): Thread {
  const worker = new Worker(path.join(__dirname, 'worker-thread.js'), {
    // The heap limit applies to the thread that holds the model; RSS (below) covers Buffers and wasm memory.
    resourceLimits: limits.memoryMB ? { maxOldGenerationSizeMb: limits.memoryMB } : undefined,
    stdout: false,
    stderr: false,
  });
  const thread: Thread = { worker, retired: false };
  worker.on('message', (message: FromThread) => onThreadMessage(thread, message));
  worker.on('error', (e: Error & { code?: string }) => {
    if (e.code === 'ERR_WORKER_OUT_OF_MEMORY')
      endRun(thread, { code: 'oom', message: `The model ran out of memory (heap limit ${limits.memoryMB ?? 'default'} MB).` });
    else endRun(thread, { code: 'crash', message: `The training thread failed: ${e.stack ?? e.message}` });
  });
  worker.on('exit', (code) => {
    endRun(thread, { code: 'crash', message: `The training thread stopped unexpectedly (exit code ${code}).` });
    if (spare === thread) spare = null;
  });
  worker.unref();
  return thread;
}

function onThreadMessage(thread: Thread, message: FromThread): void {
  if (thread.retired) return;
  switch (message.type) {
    case 'event':
      if (message.event.type !== 'log' && active?.thread !== thread) return; // a run that was already ended
      if (active && (message.event.type === 'done' || message.event.type === 'error')) active.reported = true;
      host.event(message.event);
      return;
    case 'finished':
      lastNumTensors = message.numTensors;
      if (active?.thread === thread) {
        // Ended by itself (a cancel that stopped at a step boundary included): its cancel timer must not
        // outlive it, or it would end the next run, which may reuse this very thread.
        clearActive();
      }
      if (message.clean && !spare)
        spare = thread; // warm and clean: it serves the next run
      else retire(thread);
      return;
    case 'fatal':
      if (active?.thread === thread) endRun(thread, message.error);
      else host.event({ type: 'log', level: 'warn', message: `worker: ${message.error.message}` });
  }
}

/** Terminates a thread that may not serve another run, and warms up a fresh one. */
function retire(thread: Thread): void {
  thread.retired = true;
  if (spare === thread) spare = null;
  void thread.worker.terminate();
  if (!spare && !active) spare = startThread();
}

/** Ends the active run of `thread` with `error` and terminates the thread (no-op when it has no run). */
function endRun(thread: Thread, error: RunError): void {
  const run = active;
  if (!run || run.thread !== thread) return;
  clearActive();
  host.event({ type: 'error', runId: run.runId, error });
  retire(thread);
}

/** The active run is over: no timer of it may act later, and whoever waits for it goes on. */
function clearActive(): void {
  const run = active;
  if (!run) return;
  active = null;
  restoreCwd();
  clearTimeout(run.cancelTimer);
  run.markOver();
}

/**
 * Before a new run: a run that already told the host it ended gets a moment to wind down (its clean-up
 * runs after its last event); one that does not finish in time loses its thread. A run still going is an error.
 */
async function makeRoom(): Promise<void> {
  const run = active;
  if (!run) return;
  if (!run.reported) throw new Error(`a run (${run.runId}) is already in progress; cancel it first`);
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([run.over, new Promise<void>((resolve) => (timer = setTimeout(resolve, WIND_DOWN_MS)))]);
  clearTimeout(timer);
  if (active !== run) return;
  clearActive();
  retire(run.thread);
}

const host = openChannel<HostFunctions, WorkerFunctions>(
  {
    async start(options: RunOptions, prepared?: PreparedModule) {
      await makeRoom();
      const runId = randomUUID();
      const thread = spare ?? startThread();
      spare = null;
      let markOver = () => {};
      const over = new Promise<void>((resolve) => (markOver = resolve));
      active = { runId, thread, startedAt: Date.now(), reported: false, over, markOver };
      // Posted now, handled by the thread after this reply has gone out: the host knows the runId first.
      if (options.script) {
        cwdBeforeScript = process.cwd();
        process.chdir(path.dirname(options.file));
      }
      const message: ToThread = { type: 'start', runId, options, prepared };
      setImmediate(() => thread.worker.postMessage(message));
      return { runId };
    },
    async cancel(runId: string) {
      const run = active;
      if (!run || run.runId !== runId) return { cancelled: false };
      run.thread.worker.postMessage({ type: 'cancel' } satisfies ToThread);
      // A run that stops at the next step boundary sends its own `done`; one that does not is ended.
      run.cancelTimer ??= setTimeout(() => {
        if (active === run) endRun(run.thread, { code: 'cancelled', message: 'The run was cancelled.' });
      }, CANCEL_GRACE_MS);
      return { cancelled: true };
    },
    async ping() {
      return { pid: process.pid, numTensors: lastNumTensors, rssMB: Math.round(process.memoryUsage.rss() / 1048576) };
    },
  },
  {
    post: (message) => {
      if (process.connected) process.send!(message);
    },
    listen: (handler) => {
      process.on('message', handler);
      return () => process.off('message', handler);
    },
  },
  { timeoutMs: WORKER_REQUEST_TIMEOUT_MS, eventNames: ['event'] },
);

// The parent going away ends the worker. 'disconnect' covers a closed IPC channel; a parent killed
// with SIGKILL may leave it open a moment, so the parent pid is watched too (re-parenting changes it).
const parentPid = process.ppid;
process.on('disconnect', () => process.exit(0));
// Ctrl-C reaches the whole process group: the host decides (it cancels the run and prints the report).
process.on('SIGINT', () => undefined);

setInterval(() => {
  if (process.ppid !== parentPid || !process.connected) process.exit(0);
  const run = active;
  if (!run) return;
  if (limits.timeoutMs && Date.now() - run.startedAt > limits.timeoutMs) {
    endRun(run.thread, { code: 'timeout', message: `The run took longer than ${Math.round(limits.timeoutMs / 1000)} s and was stopped.` });
    return;
  }
  const rssMB = process.memoryUsage.rss() / 1048576;
  if (limits.memoryMB && rssMB > limits.memoryMB) {
    endRun(run.thread, {
      code: 'oom',
      message: `The model used ${Math.round(rssMB)} MB of memory (limit ${limits.memoryMB} MB) and was stopped.`,
    });
  }
}, WATCH_INTERVAL_MS);

spare = startThread();
