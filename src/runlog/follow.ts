/**
 * Following a live run: each poll reads only what was appended (./scan). Polls run on a timer and, where the file
 * system reports changes (fs.watch), soon after each write; where fs.watch is unavailable (some network file
 * systems) the timer alone keeps the log at most `intervalMs` behind.
 */
import * as fs from 'node:fs';
import { resolve } from 'node:path';
import { RunLogScanner, type RunLog, type RunLogChange } from './scan';

export interface FollowOptions {
  /** Poll at least this often (ms); default 500, so new steps show at least once a second. */
  intervalMs?: number;
  /** Also poll soon after the file system reports a change; default true. */
  watch?: boolean;
  /** The follower does not keep the process alive (the editor); default false (the CLI's `watch` waits on it). */
  unref?: boolean;
  /** A poll that failed (the folder went away, the log is not a run log); following goes on. */
  onError?: (error: Error) => void;
}

export interface RunLogFollower {
  /** The log as read so far; null until its first line is there. */
  readonly log: RunLog | null;
  /** Reads what is new now (also what the timer does). */
  poll(): RunLogChange | null;
  close(): void;
}

const WATCH_DEBOUNCE_MS = 30;

export function followRunLog(
  dir: string,
  onUpdate: (log: RunLog, change: RunLogChange) => void,
  options: FollowOptions = {},
): RunLogFollower {
  const scanner = new RunLogScanner(resolve(dir));
  let closed = false;
  let lastError = '';
  const poll = (): RunLogChange | null => {
    if (closed) return null;
    let change: RunLogChange | null;
    try {
      change = scanner.poll();
      lastError = '';
    } catch (e) {
      const error = e as Error;
      if (error.message !== lastError) options.onError?.(error); // once per distinct failure, not every tick
      lastError = error.message;
      return null;
    }
    if (change && scanner.log) onUpdate(scanner.log, change);
    return change;
  };
  const timer = setInterval(poll, options.intervalMs ?? 500);
  if (options.unref) timer.unref();
  let watcher: fs.FSWatcher | null = null;
  let soon: NodeJS.Timeout | null = null;
  if (options.watch !== false) {
    try {
      watcher = fs.watch(scanner.dir, () => {
        soon ??= setTimeout(() => {
          soon = null;
          poll();
        }, WATCH_DEBOUNCE_MS);
      });
      watcher.on('error', () => {
        watcher?.close(); // the timer goes on
        watcher = null;
      });
      if (options.unref) watcher.unref();
    } catch {
      watcher = null; // no fs.watch here: the timer alone
    }
  }
  queueMicrotask(poll);
  return {
    get log() {
      return scanner.log;
    },
    poll,
    close() {
      closed = true;
      clearInterval(timer);
      if (soon) clearTimeout(soon);
      watcher?.close();
    },
  };
}
