/**
 * `normscope check <file> [--steps N=50] [--batch-size B] [--backend auto|tensorflow|wasm|cpu]
 * [--seed S] [--sampling-interval K] [--model fn] [--args '[...]'] [--json] [--fail-on kind,...]`: train the model briefly in a
 * forked worker (src/runner) and report every layer. Exit 0; 1 when a finding of a --fail-on kind
 * was raised; 2 on an error (message with file:line on stderr). `--json` prints one RunReport.
 */
import { relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { positiveInt, UsageError } from './args';
import { callSiteArguments, describeCallSiteChoice, parseArgsFlag } from './builderArgs';
import { BACKEND_CHOICES, type BackendChoice, type FindingKind, type RunOptions } from '../protocol';
import { runErrorOf } from '../runner/runFailedError';
import { WorkerClient } from '../runner/workerClient';
import { isPythonModel, PythonClient, pythonEnginePath } from '../runner/pythonClient';
import { formatReport, progressLine } from './checkTable';

const USAGE = 'Usage: normscope check <file> [--steps N=50] [--batch-size B] [--backend auto|tensorflow|wasm|cpu] '
  + '[--seed S] [--sampling-interval K] [--threshold name=value]... [--model <functionName>] [--args \'<JSON array>\'] [--python <interpreter>] [--json] [--fail-on kind,...]';

/** Every FindingKind; `satisfies` plus the check below keep it in step with the protocol. */
export const FINDING_KINDS = [
  'dead', 'gamma-collapse', 'vanishing', 'exploding', 'non-finite', 'saturated', 'effective-lr', 'bn-train-inference-drift',
  'bn-small-batch', 'bn-in-recurrent', 'ln-on-conv', 'l2-before-norm', 'post-norm', 'missing-norm',
] as const satisfies readonly FindingKind[];
type MissingKinds = Exclude<FindingKind, (typeof FINDING_KINDS)[number]>;
const allKindsListed: MissingKinds extends never ? true : never = true;
void allKindsListed;

const DEFAULTS = { steps: 50, seed: 42, samplingInterval: 1, runTimeoutMs: 300_000, maxMemoryMB: 4096 };


/** The run options and output choices from the command line; throws UsageError. */
export function parseCheckArgs(argv: string[]): { options: RunOptions; json: boolean; failOn: Set<FindingKind>; python?: string } | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        steps: { type: 'string' }, 'batch-size': { type: 'string' }, backend: { type: 'string' }, seed: { type: 'string' },
        'sampling-interval': { type: 'string' }, json: { type: 'boolean', default: false }, 'fail-on': { type: 'string' },
        threshold: { type: 'string', multiple: true }, model: { type: 'string' }, args: { type: 'string' }, python: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return 'help';
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'missing <file>' : `expected one file, got ${positionals.length}`);
  const backend = (values.backend ?? 'auto') as BackendChoice;
  if (!BACKEND_CHOICES.includes(backend)) throw new UsageError(`--backend must be one of ${BACKEND_CHOICES.join(', ')}, got '${values.backend}'`);
  const seed = values.seed === undefined ? DEFAULTS.seed : Number(values.seed);
  if (!Number.isInteger(seed)) throw new UsageError(`--seed must be an integer, got '${values.seed}'`);
  const failOn = new Set<FindingKind>();
  for (const kind of (values['fail-on'] ?? '').split(',').map((k) => k.trim()).filter(Boolean)) {
    if (!(FINDING_KINDS as readonly string[]).includes(kind)) throw new UsageError(`--fail-on: unknown kind '${kind}'; kinds: ${FINDING_KINDS.join(', ')}`);
    failOn.add(kind as FindingKind);
  }
  const thresholds: Record<string, number> = {};
  for (const pair of values.threshold ?? []) {
    const [name, raw] = pair.split('=');
    const value = Number(raw);
    if (!name || raw === undefined || raw.trim() === '' || !Number.isFinite(value)) throw new UsageError(`--threshold expects name=number (e.g. deadFraction=0.7), got '${pair}'`);
    thresholds[name.trim()] = value;
  }
  if (values.model !== undefined && !/^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$/.test(values.model)) throw new UsageError(`--model expects a function name (e.g. createModel), got '${values.model}'`);
  const args = parseArgsFlag(values.args);
  return {
    options: {
      file: resolve(positionals[0]),
      steps: positiveInt(values.steps, '--steps', DEFAULTS.steps)!,
      batchSize: positiveInt(values['batch-size'], '--batch-size'),
      backend,
      seed,
      samplingInterval: positiveInt(values['sampling-interval'], '--sampling-interval', DEFAULTS.samplingInterval)!,
      measureOverhead: true,
      ...(Object.keys(thresholds).length ? { thresholds } : {}),
      ...(values.model !== undefined ? { model: values.model } : {}),
      ...(args !== undefined ? { args } : {}),
    },
    json: values.json ?? false,
    failOn,
    ...(values.python !== undefined ? { python: values.python } : {}),
  };
}

/** Where the command writes; tests pass their own. */
export interface CheckIO {
  stdout: { write(text: string): unknown; isTTY?: boolean };
  stderr: { write(text: string): unknown };
}

export async function checkCommand(argv: string[], workerPath: string, io: CheckIO = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  let args;
  try {
    args = parseCheckArgs(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    io.stderr.write(`normscope check: ${e.message}\n${USAGE}\n`);
    return 2;
  }
  if (args === 'help') {
    io.stdout.write(`${USAGE}\n`);
    return 0;
  }
  return printRun(args, workerPath, io, 'check');
}

/**
 * Runs in a forked worker and prints the report (or the error): shared by `check` and `run`.
 * Exit code as for `check`.
 */
export async function printRun(args: { options: RunOptions; json: boolean; failOn: Set<FindingKind>; python?: string }, workerPath: string, io: CheckIO, command: string): Promise<number> {
  const { options, json, failOn } = args;
  if (options.args === undefined && !options.file.toLowerCase().endsWith('.json') && !isPythonModel(options.file)) {
    const choice = callSiteArguments(options.file, options.model);
    const where = (f: string) => relative(process.cwd(), f) || f;
    // One known call: use its arguments. Several that disagree: say so; the worker then uses the spec or
    // the defaults, or names the missing parameters.
    if (choice) io.stderr.write(`normscope check: ${describeCallSiteChoice(choice, where)}\n`);
    if (choice && 'args' in choice) options.args = choice.args;
  }
  const tty = !json && io.stdout.isTTY === true;
  const log = (level: string, message: string) => { if (process.env.NORMSCOPE_DEBUG || level === 'error') io.stderr.write(`[${level}] ${message}\n`); };
  const client = isPythonModel(options.file)
    ? new PythonClient({ enginePath: pythonEnginePath(workerPath), explicit: args.python, runTimeoutMs: DEFAULTS.runTimeoutMs, log })
    : new WorkerClient({ workerPath, runTimeoutMs: DEFAULTS.runTimeoutMs, maxMemoryMB: DEFAULTS.maxMemoryMB, log });
  // Ctrl-C cancels the run cleanly (the report is still printed) instead of killing the worker.
  const cancel = new AbortController();
  const onSigint = () => cancel.abort();
  process.once('SIGINT', onSigint);
  let total = options.steps;
  try {
    const report = await client.run(options, (event) => {
      if (!tty) return;
      if (event.type === 'layers') total = event.steps;
      if (event.type === 'progress') {
        const lastSample = event.samples[event.samples.length - 1];
        io.stdout.write(`\r${progressLine(lastSample.step + 1, total, lastSample.loss)}`);
      }
    }, cancel.signal);
    if (tty) io.stdout.write('\r\x1b[K');
    io.stdout.write(json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report, (f) => relative(process.cwd(), f) || f));
    return report.flags.some((f) => failOn.has(f.kind)) ? 1 : 0;
  } catch (e) {
    if (tty) io.stdout.write('\r\x1b[K');
    const error = runErrorOf(e);
    io.stderr.write(`normscope ${command}: ${error.message}\n`);
    return 2;
  } finally {
    process.off('SIGINT', onSigint);
    client.dispose();
  }
}
