/**
 * Errors caused by the user's model (not by NormScope), each with a stable code and the place in
 * the user's files it points at. The engine turns them into a `RunError`.
 */
import { RunFailedError, type RunError, type SourceLocation, type UserErrorCode } from '../protocol';
import type { BundleSourceMap } from './sourceMap';

export class UserCodeError extends Error {
  constructor(
    readonly code: UserErrorCode,
    message: string,
    readonly location: Partial<SourceLocation> | null,
    readonly causeStack?: string,
  ) {
    super(message);
    this.name = 'UserCodeError';
  }

  /**
   * Wraps anything the user's code threw. The location is the first frame in the user's files of
   * the thrown error's stack (so a throw deep inside tfjs points at the user's call), else `fallback`.
   */
  static from(
    e: unknown,
    code: UserErrorCode,
    context: string,
    sourceMap: BundleSourceMap | null,
    file: string,
    fallback?: Partial<SourceLocation> | null,
  ): UserCodeError {
    if (e instanceof UserCodeError) return e;
    const error = e instanceof Error ? e : new Error(String(e));
    const site = sourceMap?.errorSite(error.stack) ?? fallback ?? { file };
    const denied = deniedBecause(error);
    if (denied) return new UserCodeError('permission-denied', `${context}: ${denied}`, site, error.stack);
    return new UserCodeError(classify(error.message, code), `${context}: ${error.message}`, site, error.stack);
  }
}

const TURN_OFF =
  'NormScope runs model files with least privilege (docs/security.md); ' +
  'turn it off with the normscope.restrictPermissions setting (CLI: --no-restrict) if the model must do this';

/** What Node's permission model refused, in words, or null for any other error. */
export function deniedBecause(error: Error & { code?: string; permission?: string; resource?: string }): string | null {
  if (error.code === 'ERR_DLOPEN_DISABLED') return `the model is not allowed to load native addons. ${TURN_OFF}.`;
  if (error.code !== 'ERR_ACCESS_DENIED') return null;
  const resource = error.resource ? ` ${error.resource}` : '';
  const writable = process.execArgv.find((a) => a.startsWith('--allow-fs-write='))?.slice('--allow-fs-write='.length);
  switch (error.permission) {
    case 'FileSystemWrite':
      return `the model is not allowed to write${resource} (writes are allowed only under ${writable ?? 'a temp folder'}). ${TURN_OFF}.`;
    case 'ChildProcess':
      return `the model is not allowed to start programs (child processes). ${TURN_OFF}.`;
    case 'WorkerThreads':
      return `the model is not allowed to start worker threads. ${TURN_OFF}.`;
    default:
      return `the model is not allowed to do this (${error.permission ?? 'permission'}${resource}). ${TURN_OFF}.`;
  }
}

/** tfjs reports shape and kernel problems as plain Errors; name them by their message. */
function classify(message: string, fallback: UserErrorCode): UserErrorCode {
  if (
    /Kernel '\w+' not registered|gradient function not found|Unknown layer|Unknown (activation|initializer|regularizer|constraint)/i.test(
      message,
    )
  ) {
    return 'unsupported-layer';
  }
  if (/shape|incompatible|rank|dimension/i.test(message)) return 'shape';
  return fallback;
}

/** "file:line:column: message" — the one-line form both the CLI and the log print. */
export function describeLocation(location: Partial<SourceLocation> | null): string {
  if (!location?.file) return '';
  return `${location.file}${location.line ? `:${location.line}${location.column ? `:${location.column}` : ''}` : ''}`;
}

/** Any failure as a RunError; unknown errors are NormScope bugs and say so with their stack. */
export function toRunError(e: unknown): RunError {
  if (e instanceof RunFailedError) return e.runError;
  if (e instanceof UserCodeError) {
    const where = describeLocation(e.location);
    return {
      code: e.code,
      message: where ? `${where}: ${e.message}` : e.message,
      file: e.location?.file,
      line: e.location?.line,
      column: e.location?.column,
      stack: e.causeStack,
    };
  }
  const error = e instanceof Error ? e : new Error(String(e));
  return { code: 'internal', message: `NormScope worker error: ${error.message}`, stack: error.stack };
}
