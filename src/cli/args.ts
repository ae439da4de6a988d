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
