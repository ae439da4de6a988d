/**
 * Swap the normalization on one line of a PyTorch file (python/normscope/refactor/swap.py: `ast` locates the call,
 * arguments are translated). Uses the interpreter that has torch when there is one (it decides whether nn.RMSNorm
 * exists), else any Python 3. No vscode imports.
 */
import { execFile } from 'node:child_process';
import { delimiter } from 'node:path';
import type { NormKind } from '../protocol';
import { interpreterCandidates, resolvePython, type InterpreterChoice } from './pythonInterpreter';

/** What a Python line can be swapped to: the five norms, or weight norm on the weight layer (python/normscope/refactor/weightnorm.py). */
export type PythonSwapTarget = NormKind | 'weightNorm';
export const PYTHON_SWAP_TARGETS: readonly PythonSwapTarget[] = [
  'batchNorm',
  'layerNorm',
  'groupNorm',
  'rmsNorm',
  'instanceNorm',
  'weightNorm',
];

export interface PythonSwapResult {
  newText: string;
  description: string;
}

function runSwap(
  python: string,
  enginePath: string,
  file: string,
  line: number,
  to: PythonSwapTarget,
): Promise<PythonSwapResult | { error: string } | 'no-python'> {
  const env = {
    ...process.env,
    PYTHONPATH: [enginePath, process.env.PYTHONPATH].filter(Boolean).join(delimiter),
    PYTHONDONTWRITEBYTECODE: '1',
  };
  return new Promise((resolve) => {
    execFile(
      python,
      ['-m', 'normscope.refactor.swap', file, String(line), to],
      { env, timeout: 60_000, maxBuffer: 16 << 20 },
      (error, stdout, stderr) => {
        if (error && (error as NodeJS.ErrnoException).code === 'ENOENT') return resolve('no-python');
        if (error) return resolve({ error: `${python} could not run the swap: ${stderr.trim().split('\n').pop() ?? error.message}` });
        resolve(JSON.parse(stdout) as PythonSwapResult | { error: string });
      },
    );
  });
}

/** The swapped source; throws an Error naming the file and line when the line has no norm call or the swap does not apply. */
export async function swapPythonNorm(
  file: string,
  line: number,
  to: PythonSwapTarget,
  enginePath: string,
  choice: InterpreterChoice = {},
): Promise<PythonSwapResult> {
  const withTorch = await resolvePython(choice).then(
    (p) => [p.path],
    () => [],
  );
  for (const python of [...new Set([...withTorch, ...interpreterCandidates(choice)])]) {
    const out = await runSwap(python, enginePath, file, line, to);
    if (out === 'no-python') continue;
    if ('error' in out) throw new Error(out.error);
    return out;
  }
  throw new Error(`No Python interpreter found to swap ${file}:${line}; set normscope.pythonPath or pass --python.`);
}
