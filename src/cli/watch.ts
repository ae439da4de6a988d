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
  const { dir, failOn, thresholds } = args;
  const tty = io.stdout.isTTY === true;
  const shown = (f: string) => {
    const r = relative(process.cwd(), f);
    return r && !r.startsWith('..') && !isAbsolute(r) ? r : f;
  };
  const cancel = cancelOnSignals();
  const seen = new Set<string>();
  const rate: { at: number; step: number }[] = [];
  let findings: Finding[] = [];
  let findingsAt = 0;
  let findingsCost = 0;
  let stopped = false;
  let lastLine = 0;
  let headed = false;

  return new Promise<number>((resolve) => {
    let settled = false;
    const finish = (code: number) => {
      if (settled) return;
      settled = true;
      follower.close();
      clearInterval(ticker);
      cancel.dispose();
      resolve(code);
    };
    const clear = () => tty && io.stdout.write('\r\x1b[K');
    const say = (text: string) => {
      clear();
      io.stdout.write(`${text}\n`);
    };
    const exitCode = () => (findings.some((f) => failOn.has(f.kind)) ? EXIT.findings : EXIT.ok);
    const updateFindings = (log: RunLog, force: boolean) => {
      const now = Date.now();
      if (!force && now - findingsAt < Math.max(FINDINGS_MS, 5 * findingsCost)) return;
      findingsAt = now;
      const root = localRoot(log, args.root);
      try {
        findings = runLogFindings(log, mapSources(log, root), { thresholds, log: (m) => io.stderr.write(`normscope watch: ${m}\n`) });
        findingsCost = Date.now() - now;
      } catch (e) {
        io.stderr.write(`normscope watch: ${errorMessage(e)}\n`);
        return finish(EXIT.error);
      }
      for (const f of findings) {
        const key = `${f.kind}:${f.layer ?? ''}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const at = f.source ? `${shown(f.source.file)}:${f.source.line}:${f.source.column}` : '(model)';
        say(
          `${f.severity} ${f.kind} ${f.layer ?? ''} at ${at}${f.step !== null ? `, from step ${f.step}` : ''}\n    ${f.message}${f.fix ? `\n    Fix: ${f.fix}` : ''}`,
        );
      }
    };
    const progress = (log: RunLog, force = false) => {
      const now = Date.now();
      const { step, loss } = latest(log);
      if (rate.length === 0 || rate[rate.length - 1].step !== step) rate.push({ at: now, step });
      while (rate.length > 2 && now - rate[1].at > RATE_WINDOW_MS) rate.shift();
      const span = rate.length > 1 ? (rate[rate.length - 1].at - rate[0].at) / 1000 : 0;
      const perSecond = span > 0 ? (rate[rate.length - 1].step - rate[0].step) / span : NaN;
      const quiet = Math.max(0, Math.round((now - log.lastWriteTime) / 1000));
      const text =
        `step ${step < 0 ? '-' : step}  loss ${formatNumber(loss)}  ${Number.isFinite(perSecond) ? `${formatNumber(perSecond)} steps/s` : '- steps/s'}` +
        `  last write ${quiet} s ago  (${log.samples.length} samples, ${findings.length} finding${findings.length === 1 ? '' : 's'})`;
      if (tty) io.stdout.write(`\r\x1b[K${text}`);
      else if (force || now - lastLine >= 10_000) {
        lastLine = now;
        io.stdout.write(`${text}\n`);
      }
    };
    const header = (log: RunLog) => {
      if (headed) return;
      headed = true;
      say(
        `normscope watch: ${shown(dir)} (${log.meta.engine} on ${log.meta.host}, pid ${log.meta.pid}, every ${log.meta.every} step${log.meta.every === 1 ? '' : 's'})`,
      );
    };
    const check = (log: RunLog) => {
      const quiet = Date.now() - log.lastWriteTime;
      if (stopped && quiet <= quietMs) {
        stopped = false;
        say('resumed');
      }
      if (log.end) {
        updateFindings(log, true);
        progress(log, true);
        say(`${endNote(log)}; ${findings.length} finding${findings.length === 1 ? '' : 's'}`);
        return finish(exitCode());
      }
      if (log.meta.host === hostname() && !alive(log.meta.pid)) {
        updateFindings(log, true);
        progress(log, true);
        say(
          `stopped: process ${log.meta.pid} is gone and left no end record (killed?); ${findings.length} finding${findings.length === 1 ? '' : 's'}`,
        );
        return finish(exitCode());
      }
      if (!stopped && quiet > quietMs) {
        stopped = true;
        say(`stopped: no write for ${Math.round(quiet / 1000)} s (the run may have been killed, or be paused)`);
      }
    };
    const follower = followRunLog(
      dir,
      (log) => {
        header(log);
        updateFindings(log, false);
        progress(log);
        check(log);
      },
      { intervalMs: options.intervalMs, onError: (e) => io.stderr.write(`normscope watch: ${e.message}\n`) },
    );
    const ticker = setInterval(() => {
      const log = follower.log;
      if (!log) return;
      updateFindings(log, false);
      progress(log);
      check(log);
    }, TICK_MS);
    cancel.signal.addEventListener('abort', () => {
      clear();
      io.stderr.write('normscope watch: stopped following (Ctrl-C); the run goes on\n');
      finish(EXIT.cancelled);
    });
  });
}
