/**
 * Static rules on a PyTorch file: python/normscope/analysis/lint.py parses it with Python's own `ast` (a real
 * parser, no regex) and applies the rules of src/analysis/rules. Needs any Python 3, not torch. No vscode imports.
 */
import { execFile } from 'node:child_process';
import { statSync } from 'node:fs';
import { delimiter, dirname, sep } from 'node:path';
import type { Finding, NormKind, RunError } from '../protocol';
import { checkedRunError, RunFailedError } from '../protocol';
import { interpreterCandidates, type InterpreterChoice } from './pythonInterpreter';

/** A torch.nn / torch.optim call the parser found (1-based line and column). */
export interface PythonLayerCall {
  kind: 'nn' | 'optim';
  className: string;
  callee: string;
  line: number;
  column: number;
}

/**
 * Where a training script trains (1-based line and column): an `optimizer.step()` (else a `loss.backward()`) call, or
 * (`method: 'call'`) the call of a helper that trains, `receiver` its name (`train_one_epoch`, `engine.fit`) and
 * `module` the neighbouring file it is defined in (python/normscope/analysis/training_calls.py).
 */
export interface PythonTrainingCall {
  line: number;
  column: number;
  receiver: string;
  method: 'step' | 'backward' | 'call';
  module?: string;
}

/**
 * A class (or builder function) a run of the file would pick its model from when the file names none: the roots of
 * its class composition graph (python/normscope/analysis/candidates.py), with the constructor's parameters as written.
 */
export interface PythonModelCandidate {
  name: string;
  line: number;
  params: string[];
  /** How many of `params` have no default. */
  required: number;
  kind: 'class' | 'function';
}

export interface PythonLint {
  findings: Finding[];
  /** Empty when the file defines its model otherwise (a `model` instance, a create_model()), or has no nn.Module class. */
  models: PythonModelCandidate[];
  calls: PythonLayerCall[];
  trainingCalls: PythonTrainingCall[];
  /** Absolute paths of the neighbouring modules read to place `trainingCalls` (engine.py for train.py). */
  dependencies: string[];
}

function runLint(
  python: string,
  enginePath: string,
  file: string,
  batchSize?: number,
  text?: string,
): Promise<PythonLint | { error: RunError } | 'no-python'> {
  const env = {
    ...process.env,
    PYTHONPATH: [enginePath, process.env.PYTHONPATH].filter(Boolean).join(delimiter),
    PYTHONDONTWRITEBYTECODE: '1',
  };
  return new Promise((resolve) => {
    const child = execFile(
      python,
      ['-m', 'normscope.analysis.lint', file, batchSize ? String(batchSize) : '', ...(text !== undefined ? ['--stdin'] : [])],
      { env, cwd: dirname(file), timeout: 30_000, maxBuffer: 16 << 20 },
      (error, stdout, stderr) => {
        if (error && (error as NodeJS.ErrnoException).code === 'ENOENT') return resolve('no-python');
        if (error)
          return resolve({
            error: {
              code: 'crash',
              message: `${python} could not run the PyTorch lint: ${stderr.trim().split('\n').pop() ?? error.message}`,
              file,
            },
          });
        resolve(JSON.parse(stdout) as PythonLint | { error: RunError });
      },
    );
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(text ?? '');
  });
}

/** The norm kind of a torch.nn normalization class (BatchNorm2d → batchNorm), or undefined. */
export function pythonNormKind(className: string): NormKind | undefined {
  if (/^(Sync)?BatchNorm([123]d)?$/.test(className)) return 'batchNorm';
  if (/^InstanceNorm[123]d$/.test(className)) return 'instanceNorm';
  return ({ LayerNorm: 'layerNorm', GroupNorm: 'groupNorm', RMSNorm: 'rmsNorm' } as Record<string, NormKind>)[className];
}

/** The normalization created on `line` of a PyTorch file, for "compare" (the run's baseline). */
export async function pythonNormAtLine(
  file: string,
  line: number,
  enginePath: string,
  choice: InterpreterChoice = {},
): Promise<NormKind | undefined> {
  const { calls } = await lintPython(file, enginePath, choice);
  return calls
    .filter((c) => c.kind === 'nn' && c.line === line)
    .map((c) => pythonNormKind(c.className))
    .find((k) => k !== undefined);
}

/**
 * The static findings of `file` (its unsaved `text` when given); rejects with a RunFailedError (syntax error
 * with its line, no Python found).
 */
export async function lintPython(
  file: string,
  enginePath: string,
  choice: InterpreterChoice = {},
  batchSize?: number,
  text?: string,
): Promise<PythonLint> {
  const tried: string[] = [];
  for (const python of interpreterCandidates(choice)) {
    const out = await runLint(python, enginePath, file, batchSize, text);
    if (out === 'no-python') {
      tried.push(python);
      continue;
    }
    if ('error' in out) throw new RunFailedError(checkedRunError(out.error));
    return out;
  }
  throw new RunFailedError({
    code: 'missing-python',
    message: `No Python interpreter found (tried ${tried.join(', ')}); set normscope.pythonPath or pass --python.`,
    file,
  });
}

/**
 * A file's mtime and size as a string, or '' when it is gone. One modified less than STAMP_SLACK_MS before the lint
 * started may have changed after the lint read it (coarse file-system clocks, a save during the lint): no stamp then.
 */
const STAMP_SLACK_MS = 2000;
function stampOf(file: string, lintStarted = Infinity): string | undefined {
  try {
    const st = statSync(file);
    return st.mtimeMs >= lintStarted - STAMP_SLACK_MS ? undefined : `${st.mtimeMs}:${st.size}`;
  } catch {
    return '';
  }
}

interface CacheEntry {
  text: string;
  result: Promise<PythonLint>;
  /** dependency → its stamp when the lint ran; undefined until the lint answers. */
  stamps?: Map<string, string | undefined>;
}

/**
 * One lint per file text: the diagnostics and the training-script lens ask about the same buffer, and share one
 * Python process. The lens also depends on the helper modules the lint read (saved files: the run reads those), so
 * the same text is linted again when one of them changed on disk since. A failed lint is not kept.
 */
export class PythonLintCache {
  private readonly last = new Map<string, CacheEntry>();

  constructor(private readonly lint: (file: string, text: string) => Promise<PythonLint>) {}

  get(file: string, text: string): Promise<PythonLint> {
    const hit = this.last.get(file);
    if (hit?.text === text && !this.changed(hit)) return hit.result;
    const started = Date.now();
    const result = this.lint(file, text);
    const entry: CacheEntry = { text, result };
    this.last.set(file, entry);
    result.then(
      (lint) => (entry.stamps = new Map(lint.dependencies.map((d) => [d, stampOf(d, started)]))),
      () => {
        if (this.last.get(file) === entry) this.last.delete(file);
      },
    );
    return result;
  }

  /** Whether a dependency of the cached lint changed on disk since it ran (one stat each). */
  private changed(entry: CacheEntry): boolean {
    for (const [dep, stamp] of entry.stamps ?? []) if (stamp === undefined || stampOf(dep) !== stamp) return true;
    return false;
  }

  /**
   * `dependency` changed on disk: drop the lints that read it, and those still running (they may have read it
   * before the change). A `created` file may be a module an import of a script above it could not find before: those
   * scripts' lints go too. Returns whether any was dropped, i.e. whether a lens may move.
   */
  invalidate(dependency: string, created = false): boolean {
    let dropped = false;
    for (const [file, entry] of this.last)
      if (
        file !== dependency &&
        (!entry.stamps || entry.stamps.has(dependency) || (created && dependency.startsWith(dirname(file) + sep)))
      ) {
        this.last.delete(file);
        dropped = true;
      }
    return dropped;
  }

  forget(file: string): void {
    this.last.delete(file);
  }
}
