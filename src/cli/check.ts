/**
 * `normscope check <file> [--steps N=50] [--batch-size B] [--backend auto|tensorflow|wasm|cpu]
 * [--seed S] [--sampling-interval K] [--json] [--fail-on kind,...]`: train the model briefly in a
 * forked worker (src/runner) and report every layer. Exit 0; 1 when a finding of a --fail-on kind
 * was raised; 2 on an error (message with file:line on stderr). `--json` prints one RunReport.
 */
import { relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { positiveInt, takeLandscapeFlag, UsageError } from './args';
import { BACKEND_CHOICES, DEFAULT_LANDSCAPE_EVERY, type BackendChoice, type FindingKind, type RunOptions } from '../protocol';
import { runErrorOf } from '../runner/runFailedError';
import { WorkerClient } from '../runner/workerClient';
import { formatReport, progressLine } from './checkTable';
import { landscapeLine } from './sweepTable';

const USAGE = 'Usage: normscope check <file> [--steps N=50] [--batch-size B] [--backend auto|tensorflow|wasm|cpu] '
  + '[--seed S] [--sampling-interval K] [--threshold name=value]... [--landscape [every=K][,ics=off]] [--json] [--fail-on kind,...]';

/** Every FindingKind; `satisfies` plus the check below keep it in step with the protocol. */
export const FINDING_KINDS = [
  'dead', 'gamma-collapse', 'vanishing', 'exploding', 'non-finite', 'saturated', 'effective-lr', 'bn-train-inference-drift',
  'bn-small-batch', 'bn-in-recurrent', 'ln-on-conv', 'l2-before-norm', 'post-norm', 'missing-norm', 'rough-landscape',
] as const satisfies readonly FindingKind[];
type MissingKinds = Exclude<FindingKind, (typeof FINDING_KINDS)[number]>;
const allKindsListed: MissingKinds extends never ? true : never = true;
void allKindsListed;

const DEFAULTS = { steps: 50, seed: 42, samplingInterval: 1, runTimeoutMs: 300_000, maxMemoryMB: 4096 };


/** The run options and output choices from the command line; throws UsageError. */
export function parseCheckArgs(argv: string[]): { options: RunOptions; json: boolean; failOn: Set<FindingKind> } | 'help' {
  let parsed;
  const { rest, landscape } = takeLandscapeFlag(argv, DEFAULT_LANDSCAPE_EVERY);
  try {
    parsed = parseArgs({
      args: rest,
      allowPositionals: true,
      options: {
        steps: { type: 'string' }, 'batch-size': { type: 'string' }, backend: { type: 'string' }, seed: { type: 'string' },
        'sampling-interval': { type: 'string' }, json: { type: 'boolean', default: false }, 'fail-on': { type: 'string' },
        threshold: { type: 'string', multiple: true },
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
      ...(landscape ? { landscape } : {}),
    },
    json: values.json ?? false,
    failOn,
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
  const { options, json, failOn } = args;
  const tty = !json && io.stdout.isTTY === true;
  const client = new WorkerClient({
    workerPath,
    runTimeoutMs: DEFAULTS.runTimeoutMs,
    maxMemoryMB: DEFAULTS.maxMemoryMB,
    log: (level, message) => { if (process.env.NORMSCOPE_DEBUG || level === 'error') io.stderr.write(`[${level}] ${message}\n`); },
  });
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
    if (!json && report.landscape) io.stdout.write(landscapeLine(report.landscape));
    return report.flags.some((f) => failOn.has(f.kind)) ? 1 : 0;
  } catch (e) {
    if (tty) io.stdout.write('\r\x1b[K');
    const error = runErrorOf(e);
    io.stderr.write(`normscope check: ${error.message}\n`);
    return 2;
  } finally {
    process.off('SIGINT', onSigint);
    client.dispose();
  }
}
