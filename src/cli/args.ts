/** Argument helpers shared by the `normscope` subcommands. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { DEFAULT_SETTINGS, SETTING_MINIMUMS } from '../protocol/defaults';
import { errorMessage } from '../protocol/errors';
import { FINDING_KINDS, type FindingKind } from '../protocol/vocabulary';

/** A command-line mistake: the subcommand prints it with its usage and exits 2. */
export class UsageError extends Error {}

/** `value` as a positive integer, `fallback` when absent; throws UsageError naming `flag` otherwise. */
export function positiveInt(value: string | undefined, flag: string, fallback?: number): number | undefined {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} must be a positive integer, got '${value}'`);
  return n;
}

/** `parseArgs` with positionals, its complaints as UsageError. */
export function parseFlags<O extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: O) {
  try {
    return parseArgs({ args: argv, allowPositionals: true, options });
  } catch (e) {
    throw new UsageError(errorMessage(e));
  }
}

/** `--fail-on kind,kind`: the kinds whose findings fail the command (exit 1). */
export function parseFailOn(value: string | undefined): Set<FindingKind> {
  const failOn = new Set<FindingKind>();
  for (const kind of (value ?? '')
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean)) {
    if (!(FINDING_KINDS as readonly string[]).includes(kind))
      throw new UsageError(`--fail-on: unknown kind '${kind}'; kinds: ${FINDING_KINDS.join(', ')}`);
    failOn.add(kind as FindingKind);
  }
  return failOn;
}

/** `--threshold name=value`, repeated: detector threshold overrides by name (names are checked by the run). */
export function parseThresholds(pairs: string[] | undefined): Record<string, number> {
  const thresholds: Record<string, number> = {};
  for (const pair of pairs ?? []) {
    const [name, raw] = pair.split('=');
    const value = Number(raw);
    if (!name || raw === undefined || raw.trim() === '' || !Number.isFinite(value))
      throw new UsageError(`--threshold expects name=number (e.g. deadFraction=0.7), got '${pair}'`);
    thresholds[name.trim()] = value;
  }
  return thresholds;
}

/** Exit codes of every subcommand (README "CLI", `normscope --help`). */
export const EXIT = { ok: 0, findings: 1, error: 2, cancelled: 130 } as const;

/** The limits shared by the commands that run a model, from --timeout / --max-memory / --no-restrict. */
export interface RunLimits {
  runTimeoutMs: number;
  maxMemoryMB: number;
  permissions: 'restricted' | 'off';
}

export const LIMIT_DEFAULTS = { timeoutSeconds: DEFAULT_SETTINGS.runTimeoutSeconds, maxMemoryMB: DEFAULT_SETTINGS.maxMemoryMB };

/** parseArgs option specs of the limit flags, to spread into a command's options. */
export const LIMIT_OPTIONS = {
  timeout: { type: 'string' },
  'max-memory': { type: 'string' },
  'no-restrict': { type: 'boolean', default: false },
} as const;

export const LIMIT_USAGE = `[--timeout S=${LIMIT_DEFAULTS.timeoutSeconds}] [--max-memory MB=${LIMIT_DEFAULTS.maxMemoryMB}] [--no-restrict]`;

export function parseLimits(values: { timeout?: string; 'max-memory'?: string; 'no-restrict'?: boolean }): RunLimits {
  const seconds = positiveInt(values.timeout, '--timeout', LIMIT_DEFAULTS.timeoutSeconds)!;
  const maxMemoryMB = positiveInt(values['max-memory'], '--max-memory', LIMIT_DEFAULTS.maxMemoryMB)!;
  if (maxMemoryMB < SETTING_MINIMUMS.maxMemoryMB)
    throw new UsageError(`--max-memory must be at least ${SETTING_MINIMUMS.maxMemoryMB} (MB), got '${values['max-memory']}'`);
  return { runTimeoutMs: seconds * 1000, maxMemoryMB, permissions: values['no-restrict'] ? 'off' : 'restricted' };
}

/** How the CLI's limit messages name the limits. */
export const CLI_LIMIT_NAMES = { timeout: '--timeout', memory: '--max-memory' };

/**
 * Ctrl-C (SIGINT, to the whole process group in a terminal) and SIGTERM cancel the run: the command
 * prints the partial report and exits 130. A second signal exits 130 at once.
 */
export function cancelOnSignals(): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onSignal = () => {
    if (controller.signal.aborted) process.exit(EXIT.cancelled);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/**
 * `--landscape [every=K][,ics=on|off]` (also `--landscape=…`): takes the flag and its optional value out of argv
 * (node:util parseArgs has no optional values). Returns the rest and the options, when given.
 */
export function takeLandscapeFlag(argv: string[], defaultEvery: number): { rest: string[]; landscape?: { every: number; ics?: boolean } } {
  const rest: string[] = [];
  let landscape: { every: number; ics?: boolean } | undefined;
  const isValue = (text: string | undefined) => /^(every|ics)=/.test(text ?? '');
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg !== '--landscape' && !arg.startsWith('--landscape=')) {
      rest.push(arg);
      continue;
    }
    let value = arg.startsWith('--landscape=') ? arg.slice('--landscape='.length) : undefined;
    if (value === undefined && isValue(argv[i + 1])) value = argv[++i];
    landscape = { every: defaultEvery };
    for (const part of value === undefined ? [] : value.split(',')) {
      const [key, v] = part.split('=');
      if (key === 'every') landscape.every = positiveInt(v, '--landscape every')!;
      else if (key === 'ics' && (v === 'on' || v === 'off')) landscape.ics = v === 'on';
      else throw new UsageError(`--landscape expects every=K and/or ics=on|off, got '${part}'`);
    }
  }
  return { rest, landscape };
}
