/**
 * Entry of `dist/worker-thread.js`: the thread of the worker process that runs the user's model code
 * and tfjs. The process's main thread (./main) supervises it and can terminate it at any moment (an
 * endless loop, a time or memory limit, cancel), so nothing here has to cooperate for a run to end.
 * A thread serves runs while it stays clean; errors the user's code raises later from a timer or a
 * promise fail the run.
 */
import { parentPort } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import type { RunError } from '../protocol';
import { selectBackend } from './backend';
import { runTraining } from './engine';
import { providePrepared, userSiteOf } from './loader/bundle';
import { describeLocation } from '../userCode/errors';
import { scriptOwnsError } from './script/environment';
import type { FromThread, ToThread } from './threadMessages';

if (!parentPort) throw new Error('normscope: worker-thread.js must run in a worker thread of dist/worker.js');
const port = parentPort;
const post = (message: FromThread) => port.postMessage(message);

// Load tfjs and the usual backend while no run waits; a run with another backend switches itself.
const warm = selectBackend('auto').then(
  () => undefined,
  () => undefined,
);

let controller: AbortController | null = null;

port.on('message', (message: ToThread) => {
  if (message.type === 'cancel') {
    controller?.abort();
    return;
  }
  const signal = (controller = new AbortController()).signal;
  if (message.prepared) providePrepared(message.prepared);
  warm
    .then(() => runTraining(message.options, (event) => post({ type: 'event', event }), signal, message.runId))
    .catch(() => {
      /* already reported as an 'error' event */
    })
    // Clean: the model left no timer, socket or other handle behind that could act during the next run.
    .finally(() =>
      post({
        type: 'finished',
        numTensors: tf.memory().numTensors,
        clean: process.getActiveResourcesInfo().every((r) => r === 'MessagePort'),
      }),
    );
});

/** An error from a timer or promise of the user's code, pointed at the user's line when it has one. */
function lateError(e: unknown, how: string): RunError {
  const error = e instanceof Error ? e : new Error(String(e));
  const site = userSiteOf(error.stack);
  const where = describeLocation(site);
  return {
    code: 'late-error',
    message: `${where ? `${where}: ` : ''}${how} after the model was loaded: ${error.message}`,
    ...(site ? { file: site.file, line: site.line, column: site.column } : {}),
    stack: error.stack,
  };
}

// A training script reports its own uncaught errors while it runs (../script/environment).
process.on('uncaughtException', (e) => {
  if (!scriptOwnsError(e)) post({ type: 'fatal', error: lateError(e, 'uncaught exception') });
});
process.on('unhandledRejection', (e) => {
  if (!scriptOwnsError(e)) post({ type: 'fatal', error: lateError(e, 'unhandled promise rejection') });
});
