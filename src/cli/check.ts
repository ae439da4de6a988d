/**
 * `normscope check <file> [--steps N=50] [--batch-size B] [--backend auto|tensorflow|wasm|cpu]
 * [--seed S] [--sampling-interval K] [--model fn] [--args '[...]'] [--input-shape '[C, H, W]'] [--json] [--fail-on kind,...] [--timeout S]
 * [--max-memory MB] [--no-restrict]`: train the model briefly in a forked worker (src/runner) and report every
 * layer, plus the static findings of its source (src/analysis). Exit 0; 1 when a finding of a --fail-on kind
 * was raised; 2 on an error (message with file:line on stderr); 130 when cancelled (Ctrl-C, SIGTERM: the steps
 * measured so far are still reported). `--json` prints one RunReport.
 */
import { readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  cancelOnSignals,
  EXIT,
  LIMIT_OPTIONS,
  LIMIT_USAGE,
  parseFailOn,
  parseLimits,
  parseThresholds,
  positiveInt,
  takeLandscapeFlag,
  UsageError,
  type RunLimits,
} from './args';
import { callSiteArguments, describeCallSiteChoice, modelChoiceFlags } from './builderArgs';
import { lintSource } from '../analysis/lint';
import {
  BACKEND_CHOICES,
  DEFAULT_LANDSCAPE_EVERY,
  DEFAULT_SETTINGS,
  STATIC_FINDING_KINDS,
  type BackendChoice,
  type Finding,
  type FindingKind,
  type RunOptions,
  type RunReport,
  errorMessage,
  reportJson,
  runErrorOf,
} from '../protocol';
import { cliRunClient } from './runClient';
import { isPythonModel } from '../runner/pythonClient';
import { formatReport, progressLine } from './checkTable';
import { landscapeLine } from './sweepTable';

const USAGE =
  `Usage: normscope check <file> [--steps N=${DEFAULT_SETTINGS.steps}] [--batch-size B] [--backend auto|tensorflow|wasm|cpu] ` +
  `[--seed S] [--sampling-interval K] [--threshold name=value]... [--model <name>] [--args '<JSON array>' | '<Python arguments>' (.py)] [--input-shape '[C, H, W]' (.py)] [--landscape [every=K][,ics=off]] [--python <interpreter>] [--json] [--fail-on kind,...] ${LIMIT_USAGE}`;

/** Kinds only the static rules raise: `check` reports them from the source of a JS/TS model. */
const STATIC_KINDS: ReadonlySet<FindingKind> = new Set(STATIC_FINDING_KINDS);

/** The run options and output choices from the command line; throws UsageError. */
export function parseCheckArgs(
  argv: string[],
): { options: RunOptions; json: boolean; failOn: Set<FindingKind>; limits: RunLimits; python?: string } | 'help' {
  let parsed;
  const { rest, landscape } = takeLandscapeFlag(argv, DEFAULT_LANDSCAPE_EVERY);
  try {
    parsed = parseArgs({
      args: rest,
      allowPositionals: true,
      options: {
        steps: { type: 'string' },
        'batch-size': { type: 'string' },
        backend: { type: 'string' },
        seed: { type: 'string' },
        'sampling-interval': { type: 'string' },
        json: { type: 'boolean', default: false },
        'fail-on': { type: 'string' },
        threshold: { type: 'string', multiple: true },
        model: { type: 'string' },
        args: { type: 'string' },
        'input-shape': { type: 'string' },
        python: { type: 'string' },
        ...LIMIT_OPTIONS,
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    throw new UsageError(errorMessage(e));
  }
  const { values, positionals } = parsed;
  if (values.help) return 'help';
  if (positionals.length !== 1)
    throw new UsageError(positionals.length === 0 ? 'missing <file>' : `expected one file, got ${positionals.length}`);
  const backend = (values.backend ?? DEFAULT_SETTINGS.backend) as BackendChoice;
  if (!BACKEND_CHOICES.includes(backend))
    throw new UsageError(`--backend must be one of ${BACKEND_CHOICES.join(', ')}, got '${values.backend}'`);
  const seed = values.seed === undefined ? DEFAULT_SETTINGS.seed : Number(values.seed);
  if (!Number.isInteger(seed)) throw new UsageError(`--seed must be an integer, got '${values.seed}'`);
  const failOn = parseFailOn(values['fail-on']);
  const file = resolve(positionals[0]);
  const staticAsked = [...failOn].filter((k) => STATIC_KINDS.has(k));
  if (staticAsked.length && file.toLowerCase().endsWith('.json')) {
    throw new UsageError(`--fail-on ${staticAsked.join(',')}: static findings come from JS/TS source; a model.json has none to report`);
  }
  const limits = parseLimits(values);
  const thresholds = parseThresholds(values.threshold);
  if (values.model !== undefined && !/^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$/.test(values.model))
    throw new UsageError(`--model expects a function name (e.g. createModel), got '${values.model}'`);
  const choice = modelChoiceFlags(file, values);
  return {
    options: {
      file,
      steps: positiveInt(values.steps, '--steps', DEFAULT_SETTINGS.steps)!,
      batchSize: positiveInt(values['batch-size'], '--batch-size'),
      backend,
      seed,
      samplingInterval: positiveInt(values['sampling-interval'], '--sampling-interval', DEFAULT_SETTINGS.samplingInterval)!,
      measureOverhead: true,
      permissions: limits.permissions,
      ...(Object.keys(thresholds).length ? { thresholds } : {}),
      ...choice,
      ...(landscape ? { landscape } : {}),
    },
    json: values.json ?? false,
    failOn,
    limits,
    ...(values.python !== undefined ? { python: values.python } : {}),
  };
}

/** Where the command writes; tests pass their own. */
export interface CheckIO {
  stdout: { write(text: string): unknown; isTTY?: boolean };
  stderr: { write(text: string): unknown };
}

/** The run's findings plus the static findings of the source (batch size as trained), without repeats. */
export function withStaticFindings(report: RunReport): Finding[] {
  if (report.file.toLowerCase().endsWith('.json')) return report.findings;
  let text: string;
  try {
    text = readFileSync(report.file, 'utf8');
  } catch {
    return report.findings; // read by the worker a moment ago; gone now, so nothing to add
  }
  const seen = new Set(report.findings.map((f) => `${f.kind}:${f.source?.line ?? ''}:${f.layer ?? ''}`));
  const added = lintSource(text, report.file, { batchSize: report.batchSize }).filter(
    (f) => !seen.has(`${f.kind}:${f.source?.line ?? ''}:${f.layer ?? ''}`),
  );
  return [...report.findings, ...added];
}

export async function checkCommand(
  argv: string[],
  workerPath: string,
  io: CheckIO = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  return parsedThenRun(
    { name: 'check', usage: USAGE, io },
    () => parseCheckArgs(argv),
    (args) => printRun(args, workerPath, io, 'check'),
  );
}

/**
 * Parses a command's arguments and runs it: --help prints the usage (exit 0), a usage error its message and the usage
 * (exit 2); any other error is a bug and propagates. Shared by `check` and `run`.
 */
export async function parsedThenRun<A>(
  command: { name: string; usage: string; io: CheckIO; wording?: (message: string) => string },
  parse: () => A | 'help',
  run: (args: A) => Promise<number>,
): Promise<number> {
  const { name, usage, io, wording = (m) => m } = command;
  let args: A | 'help';
  try {
    args = parse();
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    io.stderr.write(`normscope ${name}: ${wording(e.message)}\n${usage}\n`);
    return EXIT.error;
  }
  if (args === 'help') {
    io.stdout.write(`${usage}\n`);
    return EXIT.ok;
  }
  return run(args);
}

/**
 * Runs in a forked worker and prints the report (or the error): shared by `check` and `run`.
 * Exit code as for `check`.
 */
export async function printRun(
  args: { options: RunOptions; json: boolean; failOn: Set<FindingKind>; limits: RunLimits; python?: string },
  workerPath: string,
  io: CheckIO,
  command: string,
): Promise<number> {
  const { options, json, failOn, limits } = args;
  if (options.args === undefined && !options.script && !options.file.toLowerCase().endsWith('.json') && !isPythonModel(options.file)) {
    const choice = callSiteArguments(options.file, options.model);
    const where = (f: string) => relative(process.cwd(), f) || f;
    // One known call: use its arguments. Several that disagree: say so; the worker then uses the spec or
    // the defaults, or names the missing parameters.
    if (choice) io.stderr.write(`normscope ${command}: ${describeCallSiteChoice(choice, where)}\n`);
    if (choice && 'args' in choice) options.args = choice.args;
  }
  const tty = !json && io.stdout.isTTY === true;
  const client = cliRunClient(options.file, workerPath, limits, { stderr: io.stderr, python: args.python });
  // Ctrl-C and SIGTERM cancel the run cleanly: the steps measured so far are printed, exit 130.
  const cancel = cancelOnSignals();
  let total = options.steps;
  try {
    const report = await client.run(
      options,
      (event) => {
        if (!tty) return;
        if (event.type === 'layers') total = event.steps;
        if (event.type === 'progress') {
          const lastSample = event.samples[event.samples.length - 1];
          io.stdout.write(`\r${progressLine(lastSample.step + 1, total, lastSample.loss)}`);
        }
      },
      cancel.signal,
    );
    if (tty) io.stdout.write('\r\x1b[K');
    report.findings = withStaticFindings(report);
    io.stdout.write(
      json ? `${JSON.stringify(reportJson(report), null, 2)}\n` : formatReport(report, (f) => relative(process.cwd(), f) || f),
    );
    if (!json && report.landscape) io.stdout.write(landscapeLine(report.landscape));
    if (report.stoppedEarly === 'cancelled') {
      io.stderr.write(`normscope ${command}: cancelled after ${report.loss.length} step${report.loss.length === 1 ? '' : 's'}\n`);
      return EXIT.cancelled;
    }
    return report.findings.some((f) => failOn.has(f.kind)) ? EXIT.findings : EXIT.ok;
  } catch (e) {
    if (tty) io.stdout.write('\r\x1b[K');
    const error = runErrorOf(e);
    io.stderr.write(`normscope ${command}: ${error.message}\n`);
    return error.code === 'cancelled' ? EXIT.cancelled : EXIT.error;
  } finally {
    cancel.dispose();
    client.dispose();
  }
}
