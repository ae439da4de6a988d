/**
 * Installing NormScope's Python package (`<extension>/python`, a pyproject.toml project) into an interpreter with
 * `<python> -m pip install`, and what to tell the user when pip cannot: no pip (Debian/Ubuntu ship Python without it),
 * an "externally managed" system Python (PEP 668), no write access. No vscode import (the editor's command uses it).
 */
import { execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

/** The installable package of an extension (or a checkout), or an error naming what is missing. */
export function pythonPackageFolder(extensionPath: string): { folder: string } | { error: string } {
  const folder = join(extensionPath, 'python');
  const project = join(folder, 'pyproject.toml');
  if (!fs.existsSync(project))
    return { error: `${project} is missing: this NormScope build has no installable Python package (use PYTHONPATH=${folder} instead)` };
  return { folder };
}

/** Why `<python> -m pip …` failed, in words that say how to fix it; null when the output names no known cause. */
export function pipProblem(output: string, python: string): string | null {
  if (/No module named pip\b/.test(output))
    return (
      `${python} has no pip ("${python} -m pip" says: No module named pip). Debian and Ubuntu ship Python without it: ` +
      `install it with "sudo apt install python3-pip", or make a virtual environment ("sudo apt install python3-venv", ` +
      `then "python3 -m venv .venv") and select it as the interpreter; then run this command again.`
    );
  if (/externally-managed-environment/.test(output))
    return (
      `${python} is the system's Python, which pip may not change (PEP 668, "externally-managed-environment"). ` +
      `Make a virtual environment ("python3 -m venv --system-site-packages .venv" keeps Debian's python3-torch), select ` +
      `it as the interpreter (Python: Select Interpreter, or the normscope.pythonPath setting), and run this command again.`
    );
  if (/No matching distribution found for setuptools|Could not find a version that satisfies the requirement setuptools/.test(output))
    return (
      `pip could not get setuptools to build the package (offline?). Install it into ${python} ` +
      `(Debian/Ubuntu: "sudo apt install python3-setuptools"; else "${python} -m pip install setuptools"), then run this command again.`
    );
  if (/Permission denied|EnvironmentError: \[Errno 13\]|Could not install packages due to an OSError/.test(output))
    return `pip could not write into ${python}'s site-packages (permission denied): use a virtual environment you own, or "${python} -m pip install --user".`;
  if (/^spawn .* ENOENT$/m.test(output))
    return `${python} was not found: set normscope.pythonPath or select an interpreter with the Python extension.`;
  return null;
}

export interface PipResult {
  code: number | null;
  output: string;
}

/** Runs `<python> -m pip <args>`, each output line to `onLine`; resolves with the exit code and the whole output. */
export function runPip(python: string, args: string[], onLine: (line: string) => void, signal?: AbortSignal): Promise<PipResult> {
  return new Promise((resolve) => {
    let output = '';
    let partial = '';
    const take = (chunk: Buffer) => {
      const text = partial + chunk.toString('utf8');
      const lines = text.split(/\r?\n/);
      partial = lines.pop() ?? '';
      output += chunk.toString('utf8');
      for (const line of lines) if (line.trim()) onLine(line);
    };
    const child = spawn(python, ['-m', 'pip', ...args], { signal, env: { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: '1' } });
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('error', (e) => (output += `\n${e.message}\n`)); // "spawn <python> ENOENT" when there is no such program
    child.on('close', (code) => {
      if (partial.trim()) onLine(partial);
      resolve({ code, output });
    });
  });
}

/** Whether `python` imports setuptools ≥ 61 (what pyproject.toml's build needs), so pip can build without downloading it. */
export function hasSetuptools(python: string, timeoutMs = 60_000): Promise<boolean> {
  return new Promise((resolve) => {
    execFile(python, ['-c', 'import setuptools, sys; sys.stdout.write(setuptools.__version__)'], { timeout: timeoutMs }, (error, stdout) =>
      resolve(!error && Number.parseInt(stdout, 10) >= 61),
    );
  });
}

/**
 * `pip install` arguments for the package folder: with the interpreter's own setuptools (`--no-build-isolation`) when
 * it has one, so the install works offline; else pip fetches setuptools into an isolated build environment.
 */
export function installArgs(folder: string, ownSetuptools: boolean): string[] {
  return ['install', ...(ownSetuptools ? ['--no-build-isolation'] : []), folder];
}

/**
 * A temporary copy of the package folder to install from: setuptools writes its build folders and egg-info next to
 * the sources, which must not land in the extension's own folder (read-only, or shared by every window).
 */
export function stagePackage(folder: string): { folder: string; dispose(): void } {
  const root = fs.mkdtempSync(join(tmpdir(), 'normscope-pip-'));
  const copy = join(root, 'python');
  fs.cpSync(folder, copy, {
    recursive: true,
    filter: (src) => !['__pycache__', 'build', 'dist'].includes(basename(src)) && !src.endsWith('.egg-info'),
  });
  return { folder: copy, dispose: () => fs.rmSync(root, { recursive: true, force: true }) };
}
