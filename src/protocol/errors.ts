/** Why a run failed (the codes of `RunError`), and the Error a failed run rejects with, on both sides of the process boundary. */
import type { RunError } from './run';

/** An error in the user's model or its options: raised by the worker (UserCodeError) or the Python engine. */
export type UserErrorCode =
  | 'syntax'
  | 'no-model'
  | 'factory-threw'
  | 'module-threw'
  | 'shape'
  | 'unsupported-layer'
  | 'bad-spec'
  | 'bad-file'
  | 'bad-options'
  | 'backend'
  | 'training-failed'
  | 'missing-args'
  | 'missing-package'
  | 'browser-only'
  | 'ambiguous-model'
  | 'script-threw'
  | 'script-exit'
  | 'no-training'
  | 'cancelled'
  | 'permission-denied'
  /** A what-if run's line creates no normalization layer: every candidate would fail the same way. */
  | 'no-norm-at-line'
  // The Python engine's (python/normscope_engine):
  | 'missing-input-shape'
  | 'unsupported'
  | 'io';

/** A failure of the run itself, raised by the host or the worker's supervising thread. */
export type HostErrorCode =
  | 'cancelled'
  | 'timeout'
  | 'oom'
  | 'crash'
  /** The user's code threw from a timer or promise after the model was loaded. */
  | 'late-error'
  /** A NormScope bug. */
  | 'internal'
  | 'missing-torch'
  | 'missing-python';

export type RunErrorCode = UserErrorCode | HostErrorCode;

export class RunFailedError extends Error {
  constructor(readonly runError: RunError) {
    super(runError.message);
    this.name = 'RunFailedError';
  }
}

/** The RunError inside any rejection (a RunFailedError, or an unexpected Error as 'internal'). */
export function runErrorOf(e: unknown): RunError {
  if (e instanceof RunFailedError) return e.runError;
  const error = e instanceof Error ? e : new Error(String(e));
  return { code: 'internal', message: error.message, stack: error.stack };
}

/** The message of anything thrown (an Error's message, else its string form). */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
