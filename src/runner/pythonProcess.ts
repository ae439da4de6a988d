/**
 * One PyTorch engine process, as python/normscope/engine/lifetime.py expects it: the leader of its own process group
 * (a session: a terminal's Ctrl-C reaches the host, which cancels), stdin /dev/null, its events and the host's
 * `cancel` lines on one extra socket (fd 3), the user's stdout and stderr left to the user's code. Ending it ends the
 * whole group — DataLoader workers, multiprocessing children — and lets go of every pipe at once, so a process that
 * left the group and still holds one can never keep the CLI or the extension host waiting.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { createInterface } from 'node:readline';

export const CONTROL_FD = 3;
/** After the engine exits, how long its last events may take to arrive before its end is read as it is. */
const DRAIN_MS = 500;
/** Process groups, and so killing one, are POSIX. */
const GROUPS = process.platform !== 'win32';

export interface EngineHandlers {
  /** One protocol line (a JSON event). */
  event(line: string): void;
  /** One line the user's code (or Python itself) printed. */
  output(line: string, stream: 'stdout' | 'stderr'): void;
  /** The engine exited; its events have all been read (or DRAIN_MS went by). */
  exit(code: number | null, signal: NodeJS.Signals | null): void;
  /** It could not be started. */
  failed(error: Error): void;
}

export class EngineProcess {
  private readonly child: ChildProcess;
  private readonly control: Socket;
  private ended = false;

  constructor(python: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }, handlers: EngineHandlers) {
    this.child = spawn(python, args, {
      cwd: options.cwd,
      env: { ...options.env, NORMSCOPE_CONTROL_FD: String(CONTROL_FD), NORMSCOPE_HOST_PID: String(process.pid) },
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
      detached: GROUPS,
    });
    this.control = this.child.stdio[CONTROL_FD] as Socket;
    const streams = [this.control, this.child.stdout!, this.child.stderr!];
    // A pipe whose other end is gone (the engine was killed mid-write) is not the host's problem.
    for (const stream of streams) stream.on('error', () => undefined);
    createInterface({ input: this.control, crlfDelay: Infinity }).on('line', (line) => this.ended || handlers.event(line));
    for (const [stream, name] of [
      [this.child.stdout!, 'stdout'],
      [this.child.stderr!, 'stderr'],
    ] as const) {
      createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => this.ended || handlers.output(line, name));
    }
    this.child.on('error', (e) => this.ended || handlers.failed(e));
    this.child.on('exit', (code, signal) => {
      let reported = false;
      const report = () => {
        if (reported || this.ended) return;
        reported = true;
        handlers.exit(code, signal);
      };
      if (this.control.readableEnded || this.control.destroyed) return report();
      this.control.once('close', report);
      setTimeout(report, DRAIN_MS).unref();
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Ask the run to stop at its next step boundary. */
  cancel(): void {
    if (!this.ended && this.control.writable) this.control.write('cancel\n');
  }

  /** SIGKILL to the engine's whole process group, and every pipe closed on this side. Idempotent. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    const pid = this.child.pid;
    if (pid !== undefined) {
      try {
        process.kill(GROUPS ? -pid : pid, 'SIGKILL');
      } catch {
        /* the group is gone already */
      }
    }
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    for (const stream of [this.control, this.child.stdout, this.child.stderr]) stream?.destroy();
    this.child.unref();
  }
}
