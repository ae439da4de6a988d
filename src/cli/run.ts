/**
 * `normscope run <script> [--steps N|all] [check flags] [--json] [-- script args]`: runs the user's own
 * training script in the worker and measures every model it trains with fit/fitDataset/trainOnBatch
 * on the script's data (src/worker/script). Everything after `--` goes to the script's process.argv.
 * Output and exit codes as for `check`.
 */
import { UsageError } from './args';
import { parseCheckArgs, parsedThenRun, printRun, type CheckIO } from './check';

const USAGE =
  'Usage: normscope run <script> [--steps N|all] [--backend auto|tensorflow|wasm|cpu] [--seed S] ' +
  '[--sampling-interval K] [--threshold name=value]... [--json] [--fail-on kind,...] [--timeout S=300] [--max-memory MB=4096] ' +
  '[-- script args...]';

/** The run from the command line; throws UsageError. */
export function parseRunArgs(argv: string[]): ReturnType<typeof parseCheckArgs> {
  const dashes = argv.indexOf('--');
  const ours = dashes < 0 ? argv : argv.slice(0, dashes);
  const scriptArgs = dashes < 0 ? [] : argv.slice(dashes + 1);
  // `--steps all` (or --steps=all): train until the script ends; everything else is check's syntax.
  let untilDone = false;
  const flags: string[] = [];
  for (let i = 0; i < ours.length; i++) {
    if (ours[i] === '--steps=all' || (ours[i] === '--steps' && ours[i + 1] === 'all')) {
      untilDone = true;
      if (ours[i] === '--steps') i++;
    } else {
      flags.push(ours[i]);
    }
  }
  for (const [flag, why] of [
    ['--batch-size', 'it trains with its own batch size'],
    ['--input-shape', 'it trains on its own data'],
  ])
    if (flags.includes(flag) || flags.some((f) => f.startsWith(`${flag}=`)))
      throw new UsageError(`${flag} does not apply to a script: ${why}`);
  const parsed = parseCheckArgs(flags);
  if (parsed === 'help') return parsed;
  parsed.options.script = { args: scriptArgs, ...(untilDone ? { untilDone } : {}) };
  // The user runs their own script on purpose, with their own rights (README "Security and trust").
  parsed.options.permissions = 'off';
  delete parsed.options.measureOverhead;
  return parsed;
}

export async function runCommand(
  argv: string[],
  workerPath: string,
  io: CheckIO = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  return parsedThenRun(
    { name: 'run', usage: USAGE, io, wording: (m) => m.replace('<file>', '<script>') },
    () => parseRunArgs(argv),
    (args) => printRun(args, workerPath, io, 'run'),
  );
}
