/** The Error a failed run rejects with, on both sides of the process boundary. */
import type { RunError } from './run';

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
