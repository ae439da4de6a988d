/**
 * `normscope compare <file>:<line> --to layerNorm,groupNorm,rmsNorm [--steps N] [--batch-size B]
 * [--backend ...] [--seed S] [--model fn] [--args '[...]'] [--input-shape '[C, H, W]'] [--json]`: train the model once
 * per normalization at that line (the current one included, as the baseline) with the same data, seed and steps, and
 * rank them.
 * JSON: { file, line, candidates: [{ norm, original?, finalLoss, flags, error? }] }, best first (`flags`: the findings).
 */
import { readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { cancelOnSignals, EXIT, LIMIT_OPTIONS, LIMIT_USAGE, parseLimits, positiveInt, takeLandscapeFlag, UsageError } from './args';
import { modelChoiceFlags } from './builderArgs';
import { printSweep } from './sweepTable';
import { parseRates } from '../runner/lrSweep';
import { BACKEND_CHOICES, type BackendChoice, type NormKind } from '../protocol/run';
import type { CompareResult } from '../protocol/webview';
import { DEFAULT_LANDSCAPE_EVERY } from '../protocol/landscape';
import { isNormKind, NORM_KINDS, normAtLine } from '../refactor';
import { compareNorms, type CompareOptions } from '../runner/compare';
import { cliRunClient } from './runClient';
import { isPythonModel, pythonEnginePath } from '../runner/pythonClient';
import { pythonNormAtLine } from '../runner/pythonLint';
import { compareJson, DEFAULT_SETTINGS, errorMessage } from '../protocol';

const USAGE = `Usage: normscope compare <file>:<line> --to ${NORM_KINDS.join(',')} [--steps N=${DEFAULT_SETTINGS.steps}] [--batch-size B] [--backend auto|tensorflow|wasm|cpu] [--seed S] [--model <name>] [--args '<JSON array>' | '<Python arguments>' (.py)] [--input-shape '[C, H, W]' (.py)] [--lrs a,b,c|auto] [--landscape [every=K][,ics=off]] [--json] ${LIMIT_USAGE}`;

function parse(argv: string[]) {
  const { rest, landscape } = takeLandscapeFlag(argv, DEFAULT_LANDSCAPE_EVERY);
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      lrs: { type: 'string' },
      to: { type: 'string' },
      steps: { type: 'string' },
      'batch-size': { type: 'string' },
      backend: { type: 'string' },
      seed: { type: 'string' },
      json: { type: 'boolean', default: false },
      model: { type: 'string' },
      args: { type: 'string' },
      'input-shape': { type: 'string' },
      ...LIMIT_OPTIONS,
    },
  });
  if (positionals.length !== 1) throw new UsageError('expected one <file>:<line>');
  const colon = positionals[0].lastIndexOf(':');
  const line = Number(positionals[0].slice(colon + 1));
  if (colon <= 0 || !Number.isInteger(line) || line < 1) throw new UsageError(`expected <file>:<line>, got '${positionals[0]}'`);
  const to = (values.to ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (to.length === 0) throw new UsageError(`missing --to (comma-separated, from ${NORM_KINDS.join(', ')})`);
  for (const t of to) if (!isNormKind(t)) throw new UsageError(`unknown normalization '${t}' in --to; use ${NORM_KINDS.join(', ')}`);
  const backend = (values.backend ?? DEFAULT_SETTINGS.backend) as BackendChoice;
  if (!BACKEND_CHOICES.includes(backend)) throw new UsageError(`--backend must be one of ${BACKEND_CHOICES.join(', ')}`);
  const seed = values.seed === undefined ? DEFAULT_SETTINGS.seed : Number(values.seed);
  if (!Number.isInteger(seed)) throw new UsageError(`--seed must be an integer, got '${values.seed}'`);
  const choice = modelChoiceFlags(resolve(positionals[0].slice(0, colon)), values);
  let learningRates: number[] | 'auto' | undefined;
  try {
    learningRates = values.lrs === undefined ? undefined : values.lrs.trim() === 'auto' ? 'auto' : parseRates(values.lrs);
  } catch (e) {
    throw new UsageError(`--lrs: ${errorMessage(e)}`);
  }
  return {
    landscape,
    learningRates,
    file: resolve(positionals[0].slice(0, colon)),
    line,
    to: to as NormKind[],
    steps: positiveInt(values.steps, '--steps', DEFAULT_SETTINGS.steps)!,
    batchSize: positiveInt(values['batch-size'], '--batch-size'),
    backend,
    seed,
    json: values.json ?? false,
    choice,
    limits: parseLimits(values),
  };
}

type CompareArgs = ReturnType<typeof parse>;

export async function compareCommand(argv: string[], workerPath: string): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  let args: CompareArgs;
  try {
    args = parse(argv);
  } catch (e) {
    process.stderr.write(`normscope compare: ${errorMessage(e)}\n${USAGE}\n`);
    return 2;
  }
  const original = await normToCompare(args, workerPath);
  if (!original) return 2;
  const candidates = [original, ...args.to.filter((t) => t !== original)];
  const client = cliRunClient(args.file, workerPath, args.limits, { stderr: process.stderr });
  const tty = !args.json && process.stderr.isTTY === true;
  const cancel = cancelOnSignals();
  try {
    const result = await compareNorms(
      client,
      compareOptions(args, candidates),
      (norm, i, event) => {
        if (tty && !event) process.stderr.write(`training candidate ${i + 1}/${candidates.length}: ${norm}\n`);
      },
      cancel.signal,
      (norm, rate) => {
        if (tty) process.stderr.write(`learning-rate sweep: ${norm} at ${rate}\n`);
      },
    );
    for (const c of result.candidates) if (c.norm === original) c.original = true;
    if (result.stopped && !args.json) {
      // Every candidate would fail the same way: one message, not a table of one failure.
      process.stderr.write(`normscope compare: ${result.stopped}\n`);
      return EXIT.error;
    }
    if (args.json) process.stdout.write(`${JSON.stringify(compareJson(result), null, 2)}\n`);
    else printComparison(result, args);
    if (cancel.signal.aborted) {
      process.stderr.write('normscope compare: cancelled\n');
      return EXIT.cancelled;
    }
    return result.candidates.every((c) => c.error) ? EXIT.error : EXIT.ok;
  } finally {
    cancel.dispose();
    client.dispose();
  }
}

/** The normalization the file has at the line (the baseline), or undefined after saying why there is none. */
async function normToCompare(args: CompareArgs, workerPath: string): Promise<NormKind | undefined> {
  let text: string;
  try {
    text = readFileSync(args.file, 'utf8');
  } catch (e) {
    process.stderr.write(`normscope compare: cannot read ${args.file}: ${errorMessage(e)}\n`);
    return undefined;
  }
  const original = isPythonModel(args.file)
    ? await pythonNormAtLine(args.file, args.line, pythonEnginePath(workerPath)).catch(() => undefined)
    : normAtLine(text, args.file, args.line);
  if (!original) {
    process.stderr.write(
      `normscope compare: ${relative(process.cwd(), args.file) || args.file}:${args.line} has no normalization call (BatchNorm, LayerNorm, GroupNorm, RMSNorm, InstanceNorm) to compare\n`,
    );
  }
  return original ?? undefined;
}

function compareOptions(args: CompareArgs, candidates: NormKind[]): CompareOptions {
  return {
    file: args.file,
    line: args.line,
    candidates,
    steps: args.steps,
    batchSize: args.batchSize,
    backend: args.backend,
    seed: args.seed,
    samplingInterval: 1,
    permissions: args.limits.permissions,
    ...args.choice,
    ...(args.landscape ? { landscape: args.landscape } : {}),
    ...(args.learningRates ? { learningRates: args.learningRates } : {}),
  };
}

/** The table of candidates, best first, and the learning-rate sweep if there was one. */
function printComparison(result: CompareResult, args: CompareArgs): void {
  // The model's own `normscope.steps` wins over --steps: report what actually ran.
  const steps = Math.max(0, ...result.candidates.map((c) => c.loss.length));
  process.stdout.write(
    `Compare normalizations at ${relative(process.cwd(), args.file)}:${args.line} (${steps} steps, seed ${args.seed}; loss in inference mode on an unseen batch)\n\n`,
  );
  process.stdout.write(`  ${'norm'.padEnd(14)} ${'final loss'.padStart(12)}  findings\n`);
  for (const c of result.candidates) {
    const loss = c.finalLoss === null ? (c.error ? 'failed' : (c.stoppedEarly ?? 'n/a')) : c.finalLoss.toPrecision(4);
    const findings = c.error ?? (c.findings.map((f) => f.kind).join(', ') || '–');
    process.stdout.write(`  ${(c.norm + (c.original ? '*' : '')).padEnd(14)} ${loss.padStart(12)}  ${findings}\n`);
  }
  process.stdout.write('\n  * the normalization the file has now. Best first.\n');
  if (result.sweep) printSweep(result.sweep, (text) => process.stdout.write(text));
}
