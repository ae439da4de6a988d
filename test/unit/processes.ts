// Processes as /proc shows them, for the tests that a run leaves none behind (cli-safety, pytorch-lifetime).
import { readdirSync, readFileSync } from 'node:fs';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** state, ppid and process group of `pid` (/proc/<pid>/stat), or null when it is gone. */
function stat(pid: number): { state: string; ppid: number; pgid: number } | null {
  try {
    const [state, ppid, pgid] = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return { state, ppid: Number(ppid), pgid: Number(pgid) };
  } catch {
    return null;
  }
}

function pids(): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number);
}

/** Running (a zombie waiting for PID 1 to reap it runs nothing and holds no memory). */
export function running(pid: number): boolean {
  const s = stat(pid);
  return s !== null && s.state !== 'Z';
}

/** The running processes of process group `pgid`. */
export function groupMembers(pgid: number): number[] {
  return pids().filter((pid) => {
    const s = stat(pid);
    return s !== null && s.pgid === pgid && s.state !== 'Z';
  });
}

/** The child of `parent` whose command line contains `command`, waiting for it to appear (up to 10 s). */
export async function childOf(parent: number, command: string): Promise<number> {
  for (let i = 0; i < 400; i++) {
    for (const pid of pids()) {
      try {
        if (stat(pid)?.ppid === parent && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(command)) return pid;
      } catch {
        /* exited meanwhile */
      }
    }
    await sleep(25);
  }
  throw new Error(`process ${parent} started no ${command}`);
}

/** Waits until `done()` holds, polling, for at most `ms`; returns whether it held. */
export async function within(ms: number, done: () => boolean): Promise<boolean> {
  const until = Date.now() + ms;
  while (!done()) {
    if (Date.now() > until) return false;
    await sleep(20);
  }
  return true;
}
