/**
 * `normscope swap <file>:<line> --to <norm> [--write]`: swap the normalization layer created on that
 * line. Prints the new source, or with --write saves it and creates the norm-layers file next to the
 * model when the target is one of NormScope's layers (an existing one is left alone).
 * The model and the new norm-layers file are written together or not at all (./writeAll).
 * Exit codes: 0 done, 2 bad arguments, unreadable file, no normalization call on the line, or a failed write.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { isNormKind, NORM_KINDS, RefactorError, swapNormalization, type NormKind } from '../refactor';
import { writeAllOrNothing, WriteError, type FileWrite } from './writeAll';
import { PYTHON_SWAP_TARGETS, swapPythonNorm, type PythonSwapTarget } from '../runner/pythonSwap';
import { errorMessage } from '../protocol';

const SWAP_USAGE = `Usage: normscope swap <file>:<line> --to ${NORM_KINDS.join('|')} [--write]\n       (a .py file also takes --to weightNorm)`;

interface SwapArgs {
  file: string;
  line: number;
  /** A norm kind; for .py files also a PyTorch-only target such as weightNorm (checked when parsed). */
  to: PythonSwapTarget;
  write: boolean;
}

/** Parsed arguments, or the message explaining what is wrong with them. */
function parseSwapArgs(argv: string[]): SwapArgs | string {
  let location: string | undefined;
  let to: string | undefined;
  let write = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--write' || arg === '-w') write = true;
    else if (arg === '--to') to = argv[++i];
    else if (arg.startsWith('--to=')) to = arg.slice('--to='.length);
    else if (arg.startsWith('-')) return `unknown option '${arg}'`;
    else if (location === undefined) location = arg;
    else return `unexpected argument '${arg}'`;
  }
  if (location === undefined) return 'missing <file>:<line>';
  const colon = location.lastIndexOf(':');
  const line = Number(location.slice(colon + 1));
  if (colon <= 0 || !Number.isInteger(line) || line < 1) return `expected <file>:<line> with a line number from 1, got '${location}'`;
  if (to === undefined) return `missing --to (one of ${NORM_KINDS.join(', ')})`;
  const python = /\.py$/i.test(location.slice(0, colon));
  if (python ? !PYTHON_SWAP_TARGETS.includes(to as PythonSwapTarget) : !isNormKind(to))
    return `unknown normalization '${to}' for --to; use one of ${(python ? PYTHON_SWAP_TARGETS : NORM_KINDS).join(', ')}`;
  return { file: location.slice(0, colon), line, to: to as PythonSwapTarget, write };
}

/** @param enginePath the PyTorch engine's directory (python/), for .py files */
export async function swapCommand(argv: string[], enginePath?: string): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${SWAP_USAGE}\n`);
    return 0;
  }
  const args = parseSwapArgs(argv);
  if (typeof args === 'string') {
    process.stderr.write(`normscope swap: ${args}\n${SWAP_USAGE}\n`);
    return 2;
  }
  const path = resolve(args.file);
  if (/\.py$/i.test(path) && enginePath) {
    try {
      const { newText, description } = await swapPythonNorm(path, args.line, args.to as PythonSwapTarget, enginePath);
      if (args.write) writeAllOrNothing([{ path, content: newText }]);
      process.stdout.write(args.write ? `${args.file}: ${description}\n` : newText);
      return 0;
    } catch (e) {
      process.stderr.write(`normscope swap: ${errorMessage(e)}\n`);
      return 2;
    }
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    process.stderr.write(`normscope swap: cannot read ${args.file}: ${errorMessage(e)}\n`);
    return 2;
  }
  let result;
  try {
    result = swapNormalization(text, args.file, { line: args.line }, args.to as NormKind);
  } catch (e) {
    if (!(e instanceof RefactorError)) throw e;
    process.stderr.write(`normscope swap: ${e.message}\n`);
    return 2;
  }
  if (!args.write) {
    process.stdout.write(result.newText);
    for (const extra of result.extraFiles) {
      const where = join(dirname(path), extra.path);
      if (!existsSync(where))
        process.stderr.write(
          `normscope swap: the new source imports ${extra.path}; run again with --write to create it next to ${args.file}\n`,
        );
    }
    return 0;
  }
  const writes: FileWrite[] = [{ path, content: result.newText }];
  const kept: string[] = [];
  for (const extra of result.extraFiles) {
    const where = join(dirname(path), extra.path);
    if (existsSync(where)) kept.push(extra.path);
    else writes.push({ path: where, content: extra.content });
  }
  try {
    writeAllOrNothing(writes);
  } catch (e) {
    if (!(e instanceof WriteError)) throw e;
    process.stderr.write(`normscope swap: ${e.message}\n`);
    return 2;
  }
  process.stdout.write(`${args.file}: ${result.description}\n`);
  for (const name of kept) process.stdout.write(`kept the existing ${name}\n`);
  for (const extra of result.extraFiles.filter((f) => !kept.includes(f.path))) {
    process.stdout.write(`created ${extra.path} (NormScope's norm layers, so the model runs without NormScope)\n`);
  }
  return 0;
}
