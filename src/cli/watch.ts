/**
 * `normscope watch [<run-dir>] [--fail-on kind,...] [--threshold name=value]... [--root <dir>] [--quiet S=60]`: follows
 * a run log as the user's training writes it (src/runlog follow): a progress line (step, loss, steps/s, last write),
 * each finding as it appears, and the end. Ends with the run's end record (exit 0, or 1 for a --fail-on kind), when
 * the writing process on this machine is gone, or on Ctrl-C (130); says "stopped" when the log has been quiet for
 * --quiet seconds (a run on another machine that may have been killed) and "resumed" if it writes again.
 */
import { hostname } from 'node:os';
import { isAbsolute, relative } from 'node:path';
import { errorMessage, type Finding } from '../protocol';
import { endNote, followRunLog, localRoot, mapSources, runLogFindings, type RunLog } from '../runlog';
import { latestStep as latest, processAlive as alive } from '../runlog/status';
import { cancelOnSignals, EXIT, positiveInt, UsageError } from './args';
import type { CheckIO } from './check';
import { formatNumber } from './checkTable';
import { parseLogArgs } from './report';

const USAGE = 'Usage: normscope watch [<run-dir>] [--fail-on kind,...] [--threshold name=value]... [--root <project root>] [--quiet S=60]';
/** Findings scan every kept sample: at most this often, and never more than a fifth of the time (a 500-layer log). */
const FINDINGS_MS = 1000;
const TICK_MS = 1000;
/** Steps per second over about this window. */
const RATE_WINDOW_MS = 10_000;

export interface WatchOptions {
  /** Poll interval of the follower (ms); tests shorten it. */
  intervalMs?: number;
}

export async function watchCommand(
  argv: string[],
  io: CheckIO = { stdout: process.stdout, stderr: process.stderr },
  options: WatchOptions = {},
): Promise<number> {
  let args;
  let quietMs: number;
  try {
    args = parseLogArgs(argv, { quiet: { type: 'string' } });
    if (args === 'help') {
      io.stdout.write(`${USAGE}\n`);
      return EXIT.ok;
    }
    quietMs = positiveInt(args.values.quiet as string | undefined, '--quiet', 60)! * 1000;
  } catch (e) {
    io.stderr.write(`normscope watch: ${errorMessage(e)}\n${e instanceof UsageError ? `${USAGE}\n` : ''}`);
    return EXIT.error;
  }
  const { dir, failOn, thresholds, root } = args;
  return new Promise<number>((resolve) => {
    new RunLogWatch({ dir, failOn, thresholds, root, quietMs, io, intervalMs: options.intervalMs }, resolve);
  });
}

interface WatchSetup {
  dir: string;
  failOn: Set<string>;
  thresholds: Record<string, number>;
  root: string | undefined;
  quietMs: number;
  io: CheckIO;
  intervalMs?: number;
}

/** One `normscope watch`: follows the log, prints what is new, and resolves with the exit code once. */
class RunLogWatch {
  private readonly tty: boolean;
  private readonly cancel = cancelOnSignals();
  private readonly seen = new Set<string>();
  private readonly rate: { at: number; step: number }[] = [];
  private findings: Finding[] = [];
  private findingsAt = 0;
  private findingsCost = 0;
  private stopped = false;
  private lastLine = 0;
  private headed = false;
  private settled = false;
  private readonly follower: ReturnType<typeof followRunLog>;
  private readonly ticker: NodeJS.Timeout;

  constructor(
    private readonly w: WatchSetup,
    private readonly resolve: (code: number) => void,
  ) {
    this.tty = w.io.stdout.isTTY === true;
    this.follower = followRunLog(w.dir, (log) => this.update(log, true), {
      intervalMs: w.intervalMs,
      onError: (e) => w.io.stderr.write(`normscope watch: ${e.message}\n`),
    });
    this.ticker = setInterval(() => {
      if (this.follower.log) this.update(this.follower.log, false);
    }, TICK_MS);
    this.cancel.signal.addEventListener('abort', () => {
      this.clear();
      w.io.stderr.write('normscope watch: stopped following (Ctrl-C); the run goes on\n');
      this.finish(EXIT.cancelled);
    });
  }

  /** A new read of the log (`written`), or the clock's tick. */
  private update(log: RunLog, written: boolean): void {
    if (written) this.header(log);
    this.updateFindings(log, false);
    this.progress(log);
    this.check(log);
  }

  private finish(code: number): void {
    if (this.settled) return;
    this.settled = true;
    this.follower.close();
    clearInterval(this.ticker);
    this.cancel.dispose();
    this.resolve(code);
  }

  private clear(): void {
    if (this.tty) this.w.io.stdout.write('\r\x1b[K');
  }

  private say(text: string): void {
    this.clear();
    this.w.io.stdout.write(`${text}\n`);
  }

  private shown(file: string): string {
    const r = relative(process.cwd(), file);
    return r && !r.startsWith('..') && !isAbsolute(r) ? r : file;
  }

  private exitCode(): number {
    return this.findings.some((f) => this.w.failOn.has(f.kind)) ? EXIT.findings : EXIT.ok;
  }

  private findingCount(): string {
    return `${this.findings.length} finding${this.findings.length === 1 ? '' : 's'}`;
  }

  private updateFindings(log: RunLog, force: boolean): void {
    const now = Date.now();
    if (!force && now - this.findingsAt < Math.max(FINDINGS_MS, 5 * this.findingsCost)) return;
    this.findingsAt = now;
    const { io, thresholds } = this.w;
    try {
      const sources = mapSources(log, localRoot(log, this.w.root));
      this.findings = runLogFindings(log, sources, { thresholds, log: (m) => io.stderr.write(`normscope watch: ${m}\n`) });
      this.findingsCost = Date.now() - now;
    } catch (e) {
      io.stderr.write(`normscope watch: ${errorMessage(e)}\n`);
      return this.finish(EXIT.error);
    }
    for (const f of this.findings) {
      const key = `${f.kind}:${f.layer ?? ''}`;
      if (this.seen.has(key)) continue;
      this.seen.add(key);
      const at = f.source ? `${this.shown(f.source.file)}:${f.source.line}:${f.source.column}` : '(model)';
      this.say(
        `${f.severity} ${f.kind} ${f.layer ?? ''} at ${at}${f.step !== null ? `, from step ${f.step}` : ''}\n    ${f.message}${f.fix ? `\n    Fix: ${f.fix}` : ''}`,
      );
    }
  }

  /** The progress line: on a terminal rewritten in place, else a line every 10 s (and at the end). */
  private progress(log: RunLog, force = false): void {
    const now = Date.now();
    const { step, loss } = latest(log);
    const rate = this.rate;
    if (rate.length === 0 || rate[rate.length - 1].step !== step) rate.push({ at: now, step });
    while (rate.length > 2 && now - rate[1].at > RATE_WINDOW_MS) rate.shift();
    const span = rate.length > 1 ? (rate[rate.length - 1].at - rate[0].at) / 1000 : 0;
    const perSecond = span > 0 ? (rate[rate.length - 1].step - rate[0].step) / span : NaN;
    const quiet = Math.max(0, Math.round((now - log.lastWriteTime) / 1000));
    const text =
      `step ${step < 0 ? '-' : step}  loss ${formatNumber(loss)}  ${Number.isFinite(perSecond) ? `${formatNumber(perSecond)} steps/s` : '- steps/s'}` +
      `  last write ${quiet} s ago  (${log.samples.length} samples, ${this.findingCount()})`;
    if (this.tty) this.w.io.stdout.write(`\r\x1b[K${text}`);
    else if (force || now - this.lastLine >= 10_000) {
      this.lastLine = now;
      this.w.io.stdout.write(`${text}\n`);
    }
  }

  private header(log: RunLog): void {
    if (this.headed) return;
    this.headed = true;
    const { engine, host, pid, every } = log.meta;
    this.say(`normscope watch: ${this.shown(this.w.dir)} (${engine} on ${host}, pid ${pid}, every ${every} step${every === 1 ? '' : 's'})`);
  }

  /** The end record, the writer gone, or the log quiet (and resumed). */
  private check(log: RunLog): void {
    const quiet = Date.now() - log.lastWriteTime;
    if (this.stopped && quiet <= this.w.quietMs) {
      this.stopped = false;
      this.say('resumed');
    }
    if (log.end) return this.end(log, endNote(log));
    if (log.meta.host === hostname() && !alive(log.meta.pid))
      return this.end(log, `stopped: process ${log.meta.pid} is gone and left no end record (killed?)`);
    if (!this.stopped && quiet > this.w.quietMs) {
      this.stopped = true;
      this.say(`stopped: no write for ${Math.round(quiet / 1000)} s (the run may have been killed, or be paused)`);
    }
  }

  private end(log: RunLog, note: string): void {
    this.updateFindings(log, true);
    this.progress(log, true);
    this.say(`${note}; ${this.findingCount()}`);
    this.finish(this.exitCode());
  }
}
