/**
 * What a training script sees while it runs in the worker, and how it is ended: `process.argv` is
 * [node, script, ...args], the working directory is the script's folder, `process.exit` ends the
 * script instead of the worker, its timers are tracked (so ending it clears them) and errors it
 * does not catch (a rejected `main()`, a throw in a timer) are reported instead of lost.
 * `end()` is the one place that ends a script; it puts everything back.
 */
import * as path from 'node:path';
import { isMainThread } from 'node:worker_threads';

/** Thrown into the script where it would go on training after NormScope stopped it. */
export class ScriptStopped extends Error {
  constructor(reason: string) {
    super(`NormScope stopped the script: ${reason}`);
    this.name = 'NormScopeStopped';
  }
}

/** Thrown by the script's `process.exit(code)`: unwinds its code without ending the worker. */
export class ScriptExit extends Error {
  constructor(readonly code: number) {
    super(`process.exit(${code})`);
    this.name = 'NormScopeScriptExit';
  }
}

export interface ScriptHandlers {
  /** An error the script did not catch (sentinels excluded). */
  onError(error: unknown): void;
  onExit(code: number): void;
}

type Timer = NodeJS.Timeout | NodeJS.Immediate;

/** Scripts running now: they report their own uncaught errors (see `scriptOwnsError`). */
let runningScripts = 0;

/**
 * Whether an uncaught error belongs to a training script's run rather than being a late error of a model
 * (../thread): while a script runs it reports what it does not catch itself (as `script-threw`), and the
 * sentinels NormScope throws into an ended script are never errors.
 */
export function scriptOwnsError(error: unknown): boolean {
  return runningScripts > 0 || error instanceof ScriptStopped || error instanceof ScriptExit;
}

/** Whether the user's bundled code (../loader/bundle names it `.normscope-bundle-*.js`) is on the stack. */
function calledFromScript(): boolean {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 100;
  const stack = new Error().stack ?? '';
  Error.stackTraceLimit = limit;
  return stack.includes('.normscope-bundle-');
}

function counts(names: string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const name of names) out.set(name, (out.get(name) ?? 0) + 1);
  return out;
}

export class ScriptEnvironment {
  /** Globals the bundled script receives in place of Node's (see ../loader/bundle `scope`). */
  readonly scope: Record<string, unknown>;
  /** The script's pending timers and how to clear each. */
  private readonly timers = new Map<Timer, (t: never) => void>();
  private readonly baseline: Map<string, number>;
  private readonly saved: { argv: string[]; cwd: string; exit: typeof process.exit; exitCode: typeof process.exitCode };
  private readonly listener: (error: unknown) => void;
  private ended = false;

  constructor(
    file: string,
    args: string[],
    private readonly handlers: ScriptHandlers,
  ) {
    this.saved = { argv: process.argv, cwd: process.cwd(), exit: process.exit, exitCode: process.exitCode };
    // stdout and stderr open their pipes on first use: open them now so a console.log is not counted as the script's.
    void process.stdout;
    void process.stderr;
    this.baseline = counts(process.getActiveResourcesInfo());
    this.listener = (error) => {
      if (this.ended || error instanceof ScriptStopped || error instanceof ScriptExit) return;
      handlers.onError(error);
    };
    process.on('unhandledRejection', this.listener);
    process.on('uncaughtException', this.listener);
    runningScripts++;
    process.argv = [process.execPath, file, ...args];
    // Worker threads cannot chdir: there the supervising thread (../main) has changed the folder already.
    if (isMainThread) process.chdir(path.dirname(file));
    const exit = process.exit;
    process.exit = ((code?: number | string | null) => {
      // NormScope's own exit (the host went away) still ends the worker; only the script's code is caught.
      if (!calledFromScript()) return exit(code);
      const exitCode = Number(code ?? process.exitCode ?? 0) || 0;
      handlers.onExit(exitCode);
      throw new ScriptExit(exitCode);
    }) as typeof process.exit;
    this.scope = this.timerScope();
  }

  /** Tracked versions of the timer functions: a pending timer of an ended script never fires. */
  private timerScope(): Record<string, unknown> {
    const track =
      <A extends unknown[]>(start: (fn: (...a: A) => void, ...rest: never[]) => Timer, once: boolean, clear: (t: never) => void) =>
      (fn: (...a: A) => void, ...rest: never[]) => {
        const timer: Timer = start(
          (...a: A) => {
            if (once) this.timers.delete(timer);
            fn(...a);
          },
          ...rest,
        );
        this.timers.set(timer, clear);
        return timer;
      };
    const untrack = (clear: (t: never) => void) => (timer: never) => {
      this.timers.delete(timer);
      clear(timer);
    };
    return {
      setTimeout: track(setTimeout as never, true, clearTimeout as never),
      setInterval: track(setInterval as never, false, clearInterval as never),
      setImmediate: track(setImmediate as never, true, clearImmediate as never),
      clearTimeout: untrack(clearTimeout as never),
      clearInterval: untrack(clearInterval as never),
      clearImmediate: untrack(clearImmediate as never),
    };
  }

  /**
   * True while the script may still do something: a timer, an open file or socket beyond what the
   * process had before it started (`ownTimers`: the caller's own pending timers, not counted).
   * Pending promises need one of those to settle, so without any the script has finished.
   */
  busy(ownTimers = 0): boolean {
    const now = counts(process.getActiveResourcesInfo());
    let extra = -ownTimers;
    for (const [name, n] of now) extra += Math.max(0, n - (this.baseline.get(name) ?? 0));
    return extra > 0;
  }

  /** Ends the script: clears its timers and puts argv, cwd and process.exit back. Idempotent. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    // Each with its own clear function: clearImmediate on a Timeout would corrupt Node's immediate count.
    for (const [timer, clear] of this.timers) clear(timer as never);
    this.timers.clear();
    process.argv = this.saved.argv;
    process.exit = this.saved.exit;
    process.exitCode = this.saved.exitCode;
    try {
      if (isMainThread) process.chdir(this.saved.cwd);
    } catch {
      /* the old folder is gone; stay where we are */
    }
    process.off('unhandledRejection', this.listener);
    process.off('uncaughtException', this.listener);
    runningScripts--;
  }
}
