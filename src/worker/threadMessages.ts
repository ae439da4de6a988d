/**
 * Messages between the worker process's supervising main thread (./main) and the thread that runs
 * the user's code and tfjs (./thread). Internal to the worker process; the host never sees them.
 */
import type { RunError, RunOptions } from '../protocol';
import type { PreparedModule, WorkerEvent } from '../protocol/worker';

export type ToThread = { type: 'start'; runId: string; options: RunOptions; prepared?: PreparedModule } | { type: 'cancel' };

export type FromThread =
  /** A run event or log line, forwarded to the host as is. */
  | { type: 'event'; event: WorkerEvent }
  /**
   * The run settled (after its done/error event): tensors still alive (the leak check), and whether the
   * model left nothing behind (no timers or handles), so the thread may serve the next run.
   */
  | { type: 'finished'; numTensors: number; clean: boolean }
  /** User code failed outside the run's own call chain (a timer, a promise): the run fails. */
  | { type: 'fatal'; error: RunError };
