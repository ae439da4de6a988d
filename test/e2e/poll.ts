/** Polling for the e2e tests, shared by the extension-host suites (test/e2e/host) and the UI tests (test/e2e/ui). */

/**
 * Polls `probe` every 100 ms until it returns a truthy value, which it returns. A probe that throws counts as "not
 * yet" (the file, frame or element may not exist yet); after `timeoutMs` it fails naming `what` and the last error.
 */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) {
      const why = lastError === undefined ? '' : ` (last error: ${lastError instanceof Error ? lastError.message : String(lastError)})`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
