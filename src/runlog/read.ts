/**
 * Reading a run log once (`normscope report`, the editor's list of runs), its loss as series, and its layers'
 * sources on this machine: a run made elsewhere records paths relative to its project root, mapped here onto a
 * local root.
 */
import * as fs from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import type { LayerInfo } from '../protocol';
import { META_FILE } from './format';
import { RunLogError, RunLogScanner, type RunLog } from './scan';

export { RunLogError, type RunLog, type RunLogChange } from './scan';

/** A live run may move samples between files while they are read: a few passes settle on what is there. */
const MAX_PASSES = 5;

/** The whole log in `dir` as it is now. Throws RunLogError when `dir` holds no run log. */
export function readRunLog(dir: string): RunLog {
  const scanner = new RunLogScanner(resolve(dir));
  for (let pass = 0; pass < MAX_PASSES; pass++) {
    if (!scanner.poll() && scanner.log) break;
  }
  if (!scanner.log) throw new RunLogError(`${resolve(dir)}: not a NormScope run (no ${META_FILE}, or it is empty)`);
  return scanner.log;
}

/** Where runs go: $NORMSCOPE_DIR, else .normscope/runs in `cwd` (docs/run-log.md). */
export function runsFolder(cwd = process.cwd(), env: NodeJS.ProcessEnv = process.env): string {
  return env.NORMSCOPE_DIR ? resolve(env.NORMSCOPE_DIR) : join(cwd, '.normscope', 'runs');
}

/** The runs in `folder` (sub-folders with a meta.jsonl), newest start first. */
export function listRuns(folder: string): { dir: string; started: number }[] {
  let names: string[];
  try {
    names = fs.readdirSync(folder);
  } catch {
    return [];
  }
  const runs: { dir: string; started: number }[] = [];
  for (const name of names) {
    const dir = join(folder, name);
    const meta = join(dir, META_FILE);
    let started = NaN;
    try {
      const fd = fs.openSync(meta, 'r');
      try {
        const head = Buffer.alloc(4096);
        const n = fs.readSync(fd, head, 0, head.length, 0);
        started = Date.parse(/"started":"([^"]+)"/.exec(head.toString('utf8', 0, n))?.[1] ?? '');
        if (!Number.isFinite(started)) started = fs.fstatSync(fd).mtimeMs;
      } finally {
        fs.closeSync(fd);
      }
    } catch {
      continue;
    }
    runs.push({ dir, started });
  }
  return runs.sort((a, b) => b.started - a.started);
}

/** `path` itself when it is a run folder; the newest run in it when it is a folder of runs. */
export function resolveRunDir(path: string): string {
  const dir = resolve(path);
  if (fs.existsSync(join(dir, META_FILE))) return dir;
  if (!fs.existsSync(dir)) throw new RunLogError(`${dir}: no such folder`);
  const newest = listRuns(dir)[0];
  if (!newest) throw new RunLogError(`${dir}: not a NormScope run, and no runs in it (a run folder holds ${META_FILE})`);
  return newest.dir;
}

/** Each step's recorded loss (NaN/Inf kept): loss.bin, else the sample of that step (its loss not yet flushed). */
function recordedLoss(log: RunLog): number[] {
  const out: number[] = [];
  for (const block of log.loss) block.values.forEach((v, i) => (out[block.firstStep + i] = v));
  for (const s of log.samples) if (out[s.step] === undefined) out[s.step] = s.loss;
  return out;
}

/** Every step's loss by step, from step 0: null where none was recorded or it was not finite. */
export function lossByStep(log: RunLog): (number | null)[] {
  const recorded = recordedLoss(log);
  return Array.from(recorded, (v) => (v !== undefined && Number.isFinite(v) ? v : null));
}

/**
 * The loss as the detectors read it (index = step; NaN/Inf kept). A step without a record (before the log's first
 * loss, or lost with the last second of a killed run) holds the previous recorded loss, 0 before the first: neither
 * raises anything; so does a step the optimizer skipped (AMP's overflow probe: its Inf is handled, not a failure).
 */
export function detectorLoss(log: RunLog): number[] {
  const recorded = recordedLoss(log);
  const skipped = new Set(log.skipped.map((s) => s.step));
  let previous = 0;
  return Array.from(recorded, (v, step) => {
    if (v !== undefined && !skipped.has(step)) previous = v;
    return previous;
  });
}

/**
 * The project root to map the log's relative source paths onto: `explicit` (the CLI's --root, the editor's workspace
 * folder), else the folder that holds `.normscope/runs/<run>` when the log lies in one (a log copied into a local
 * checkout), else the root recorded by the writer when it exists here, else the working directory.
 */
export function localRoot(log: RunLog, explicit?: string): string {
  if (explicit) return resolve(explicit);
  const runs = dirname(log.dir);
  if (basename(runs) === 'runs' && basename(dirname(runs)) === '.normscope') return dirname(dirname(runs));
  if (log.meta.projectRoot && fs.existsSync(log.meta.projectRoot)) return log.meta.projectRoot;
  return process.cwd();
}

/** A path of the log (relative to its project root, or absolute) as a path on this machine under `root`. */
export function localPath(file: string, root: string): string {
  return isAbsolute(file) || /^[A-Za-z]:[\\/]/.test(file) ? file : resolve(root, ...file.split('/'));
}

/** The layer table with every source file as a path on this machine. */
export function mapSources(log: RunLog, root: string): LayerInfo[] {
  return log.layers.map((l) => (l.source ? { ...l, source: { ...l.source, file: localPath(l.source.file, root) } } : l));
}
