/** Argument helpers shared by the `normscope` subcommands. */

/** A command-line mistake: the subcommand prints it with its usage and exits 2. */
export class UsageError extends Error {}

/** `value` as a positive integer, `fallback` when absent; throws UsageError naming `flag` otherwise. */
export function positiveInt(value: string | undefined, flag: string, fallback?: number): number | undefined {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} must be a positive integer, got '${value}'`);
  return n;
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
    if (arg !== '--landscape' && !arg.startsWith('--landscape=')) { rest.push(arg); continue; }
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
