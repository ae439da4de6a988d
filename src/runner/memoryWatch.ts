/**
 * The memory limit of a process the host cannot limit from inside (the PyTorch engine): its resident set size,
 * polled from /proc/<pid>/status. Chosen over RLIMIT_AS in the engine because torch reserves address space it
 * never touches (thread arenas, CUDA builds), so an address-space cap fails healthy runs or must be set far above
 * what the user asked for; RSS is also what the tfjs worker's limit counts. Linux only: elsewhere no /proc, no watch.
 */
import { readFileSync } from 'node:fs';

/** How often the RSS is read; an allocation faster than this can overshoot the limit by what it allocates. */
export const RSS_POLL_MS = 100;

/** Resident memory of `pid` in MB, or undefined when it cannot be read (process gone, no /proc). */
export function residentMB(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Calls `onExceed(mb)` once when `pid`'s RSS goes over `limitMB`. Returns the function that stops watching. */
export function watchResidentMemory(pid: number, limitMB: number, onExceed: (mb: number) => void, pollMs = RSS_POLL_MS): () => void {
  const timer = setInterval(() => {
    const mb = residentMB(pid);
    if (mb !== undefined && mb > limitMB) {
      clearInterval(timer);
      onExceed(mb);
    }
  }, pollMs);
  timer.unref();
  return () => clearInterval(timer);
}
