/** Why a run failed (the codes of `RunError`), and the Error a failed run rejects with, on both sides of the process boundary. */

/** An error in the user's model or its options: raised by the worker (UserCodeError) or the Python engine. */
export const USER_ERROR_CODES = [
  'syntax',
  'no-model',
  'factory-threw',
  'module-threw',
  'shape',
  'unsupported-layer',
  'bad-spec',
  'bad-file',
  'bad-options',
  'backend',
  'training-failed',
  'missing-args',
  'missing-package',
  'browser-only',
  'ambiguous-model',
  'script-threw',
  'script-exit',
  'no-training',
  'cancelled',
  'permission-denied',
  /** A what-if run's line creates no normalization layer: every candidate would fail the same way. */
  'no-norm-at-line',
  // The Python engine's (python/normscope/engine):
  'missing-input-shape',
  /** forward() takes several inputs and the file gives no data: NormScope synthesises one. */
  'several-inputs',
  'unsupported',
  'io',
] as const;
export type UserErrorCode = (typeof USER_ERROR_CODES)[number];

/** A failure of the run itself, raised by the host or the worker's supervising thread. */
export const HOST_ERROR_CODES = [
  'cancelled',
  'timeout',
  'oom',
  'crash',
  /** The user's code threw from a timer or promise after the model was loaded. */
  'late-error',
  /** A NormScope bug. */
  'internal',
  'missing-torch',
  'missing-python',
] as const;
export type HostErrorCode = (typeof HOST_ERROR_CODES)[number];

export type RunErrorCode = UserErrorCode | HostErrorCode;

/** An error with the place in the user's code it came from. */
export interface RunError {
  /** Stable category: an error in the user's model (UserErrorCode) or of the run itself (HostErrorCode). */
  code: RunErrorCode;
  message: string;
  file?: string;
  line?: number;
  column?: number;
  stack?: string;
}

const RUN_ERROR_CODES: ReadonlySet<string> = new Set([...USER_ERROR_CODES, ...HOST_ERROR_CODES]);

export function isRunErrorCode(code: unknown): code is RunErrorCode {
  return typeof code === 'string' && RUN_ERROR_CODES.has(code);
}

/**
 * A RunError that came over a process boundary as JSON (the Python engine's): its code checked at run time, since
 * the types cannot see the other side. An unknown code is a NormScope bug ('internal'), its message kept.
 */
export function checkedRunError(raw: unknown, onUnknownCode?: (code: unknown) => void): RunError {
  const o = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const message = typeof o.message === 'string' ? o.message : `malformed error from the engine: ${JSON.stringify(raw)}`;
  if (!isRunErrorCode(o.code)) onUnknownCode?.(o.code);
  const error: RunError = { code: isRunErrorCode(o.code) ? o.code : 'internal', message };
  if (typeof o.file === 'string') error.file = o.file;
  if (typeof o.line === 'number') error.line = o.line;
  if (typeof o.column === 'number') error.column = o.column;
  if (typeof o.stack === 'string') error.stack = o.stack;
  return error;
}

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
