/**
 * One way to open a typed RPC channel over any message transport (a child process, a webview).
 * birpc gives request ids, error replies and timeouts; closing rejects every pending request.
 */
import { createBirpc, type BirpcReturn } from 'birpc';

export interface Transport {
  post(message: unknown): void;
  /** Subscribe to incoming messages; returns the unsubscribe function. */
  listen(handler: (message: unknown) => void): () => void;
}

/** Error a request rejects with when the remote did not answer in time. */
export class RequestTimeoutError extends Error {
  constructor(
    readonly method: string,
    timeoutMs: number,
  ) {
    super(`NormScope: request '${method}' got no answer within ${timeoutMs} ms`);
    this.name = 'RequestTimeoutError';
  }
}

export type Channel<Remote extends object, Local extends object> = BirpcReturn<Remote, Local>;

/**
 * Open a channel. `eventNames` are remote functions called without waiting for a reply.
 */
export function openChannel<Remote extends object, Local extends object>(
  local: Local,
  transport: Transport,
  options: { timeoutMs: number; eventNames?: (keyof Remote)[] },
): Channel<Remote, Local> {
  let unsubscribe: (() => void) | undefined;
  return createBirpc<Remote, Local>(local, {
    post: (data) => transport.post(data),
    on: (fn) => {
      unsubscribe = transport.listen(fn);
    },
    off: () => unsubscribe?.(),
    timeout: options.timeoutMs,
    eventNames: options.eventNames,
    onTimeoutError(method) {
      throw new RequestTimeoutError(method, options.timeoutMs);
    },
  });
}
