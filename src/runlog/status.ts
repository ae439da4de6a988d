/**
 * Where a run log stands — live, stopped (quiet, or its process gone) or ended — its newest step, and the local
 * project root an editor maps its relative source paths onto (a run made on another machine, with another root).
 * Shared by `normscope watch` and the editor's list of runs and its Follow; no vscode import.
 */
import * as fs from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join, relative, isAbsolute } from 'node:path';
import type { Finding } from '../protocol';
import { localPath, mapSources } from './read';
import { runLogFindings } from './report';
import type { RunLog } from './scan';

/** A run that wrote nothing for this long is "stopped" (it may have been killed on another machine, or be paused). */
export const DEFAULT_QUIET_MS = 60_000;

export type RunLiveness = 'live' | 'stopped' | 'ended';

export interface LivenessOptions {
  /** Now, in ms since the epoch. */
  now?: number;
  quietMs?: number;
  /** This machine's name: a writer here whose process is gone is stopped at once. */
  host?: string;
  /** Whether process `pid` on this machine is alive. */
  alive?: (pid: number) => boolean;
}

/** Whether process `pid` on this machine is alive (EPERM: alive, someone else's). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** `ended` with an end record; `stopped` when quiet for `quietMs` or its writer on this machine is gone; else `live`. */
export function runLiveness(log: RunLog, options: LivenessOptions = {}): RunLiveness {
  if (log.end) return 'ended';
  const now = options.now ?? Date.now();
  if (now - log.lastWriteTime > (options.quietMs ?? DEFAULT_QUIET_MS)) return 'stopped';
  const here = options.host ?? hostname();
  if (log.meta.host === here && !(options.alive ?? processAlive)(log.meta.pid)) return 'stopped';
  return 'live';
}

/** The newest step the log knows and its loss: the last loss block's, or a later sample's (its loss not yet flushed). */
export function latestStep(log: RunLog): { step: number; loss: number } {
  const block = log.loss[log.loss.length - 1];
  const sample = log.samples[log.samples.length - 1];
  const blockStep = block ? block.firstStep + block.values.length - 1 : -1;
  if (sample && sample.step > blockStep) return { step: sample.step, loss: sample.loss };
  return { step: blockStep, loss: block ? block.values[block.values.length - 1] : NaN };
}

/**
 * The folder among `folders` (the editor's workspace folders) that the log's relative paths map onto:
 * the one holding the run (`<folder>/…/.normscope/runs/<run>`), else the first where the script or a layer's source
 * file exists — at the folder itself or at its sub-folder named like the writer's root (a checkout whose project is
 * one folder down) — else the one holding the run, else the first. Null without folders.
 */
export function editorRoot(log: RunLog, folders: readonly string[], exists: (path: string) => boolean = fs.existsSync): string | null {
  if (folders.length === 0) return null;
  const holding = folders.find((f) => within(f, log.dir));
  const files = relativeFiles(log);
  const runs = dirname(log.dir);
  if (holding && basename(runs) === 'runs' && basename(dirname(runs)) === '.normscope') {
    const root = dirname(dirname(runs));
    if (files.length === 0 || files.some((f) => exists(localPath(f, root)))) return root;
  }
  const base = basename(log.meta.projectRoot.replace(/[\\/]+$/, '')) || null;
  const ordered = holding ? [holding, ...folders.filter((f) => f !== holding)] : [...folders];
  for (const folder of ordered) {
    const candidates = base ? [folder, join(folder, base)] : [folder];
    for (const root of candidates) if (files.some((f) => exists(localPath(f, root)))) return root;
  }
  return holding ?? folders[0];
}

/** The log's paths that are relative to its project root: the script's and the layers' sources (first few). */
function relativeFiles(log: RunLog): string[] {
  const files = [log.meta.file, ...log.layers.map((l) => l.source?.file)].filter(
    (f): f is string => typeof f === 'string' && !isAbsolute(f) && !/^[A-Za-z]:[\\/]/.test(f),
  );
  return [...new Set(files)].slice(0, 8);
}

function within(folder: string, path: string): boolean {
  const r = relative(folder, path);
  return r !== '' && !r.startsWith('..') && !isAbsolute(r);
}

/** One line of the editor's list of runs. */
export interface RunSummary {
  dir: string;
  liveness: RunLiveness;
  /** The end record's reason (`closed`, `exception`, `exit`) once ended. */
  endReason: string | null;
  /** The training script as recorded (relative to the project root), or null. */
  script: string | null;
  engine: string;
  host: string;
  started: string;
  /** Steps written (the newest step + 1). */
  steps: number;
  findings: Finding[];
  lastWriteTime: number;
}

/** What the list of runs shows of `log`: its state, script, steps and findings (paths mapped onto `root`). */
export function summarizeRun(log: RunLog, root: string, options: LivenessOptions = {}): RunSummary {
  return {
    dir: log.dir,
    liveness: runLiveness(log, options),
    endReason: log.end?.reason ?? null,
    script: log.meta.file,
    engine: log.meta.engine,
    host: log.meta.host,
    started: log.meta.started,
    steps: latestStep(log).step + 1,
    findings: runLogFindings(log, mapSources(log, root)),
    lastWriteTime: log.lastWriteTime,
  };
}
