/**
 * Which Python runs a PyTorch model: the `normscope.pythonPath` setting / `--python` flag, else the Python
 * extension's selected interpreter, else `python3` on PATH; an interpreter that was not chosen explicitly
 * and cannot import torch falls back to /usr/bin/python3 (Debian's python3-torch). No vscode imports.
 */
import { execFile } from 'node:child_process';

export interface InterpreterChoice {
  /** The `normscope.pythonPath` setting or `--python` flag. */
  explicit?: string;
  /** The Python extension's selected interpreter, when it is installed. */
  pythonExtension?: string;
}

export interface ResolvedPython {
  path: string;
  torchVersion: string;
}

/** Every interpreter worth trying, in order, without duplicates. */
export function interpreterCandidates(choice: InterpreterChoice): string[] {
  const list = choice.explicit ? [choice.explicit] : [choice.pythonExtension, 'python3', '/usr/bin/python3'];
  return [...new Set(list.filter((p): p is string => !!p))];
}

/** The torch version `python` can import, or an error message. */
export function probeTorch(python: string, timeoutMs = 60_000): Promise<{ version: string } | { error: string }> {
  return new Promise((resolve) => {
    execFile(python, ['-c', 'import torch, sys; sys.stdout.write(torch.__version__)'], { timeout: timeoutMs }, (error, stdout, stderr) => {
      if (!error) resolve({ version: stdout.trim() });
      else
        resolve({
          error: (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : (stderr.trim().split('\n').pop() ?? error.message),
        });
    });
  });
}

/** How to fix a missing torch, naming every interpreter tried and why it failed. */
export function missingTorchMessage(tried: { path: string; error: string }[]): string {
  return (
    'NormScope needs PyTorch to run a .py model, and no interpreter it tried can import torch: ' +
    tried.map((t) => `${t.path} (${t.error})`).join('; ') +
    '. Point NormScope at a Python that has torch: the normscope.pythonPath setting (or select that interpreter with the Python extension), ' +
    'or --python /path/to/python on the command line; e.g. `apt-get install python3-torch` gives /usr/bin/python3 one.'
  );
}

/** The first candidate that imports torch; throws an Error with `missingTorchMessage`. Cached per choice. */
const cache = new Map<string, Promise<ResolvedPython>>();
export function resolvePython(choice: InterpreterChoice): Promise<ResolvedPython> {
  const key = JSON.stringify(choice);
  let found = cache.get(key);
  if (!found) {
    found = (async () => {
      const tried: { path: string; error: string }[] = [];
      for (const path of interpreterCandidates(choice)) {
        const probe = await probeTorch(path);
        if ('version' in probe) return { path, torchVersion: probe.version };
        tried.push({ path, error: probe.error });
      }
      throw new Error(missingTorchMessage(tried));
    })();
    found.catch(() => cache.delete(key));
    cache.set(key, found);
  }
  return found;
}
