/**
 * Least privilege for the worker that runs a model file (`check`, `compare`, the editor's runs): Node's
 * permission model. Reads are allowed everywhere (the model's imports, tfjs's .wasm files, data files);
 * writes only inside one temp folder; no child processes, no native addons. `--allow-worker` is needed
 * because the worker runs the model in a worker thread it supervises (src/worker/main.ts); a thread the
 * model starts gets the same restrictions. README "Security and trust" explains each choice.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PreparedModule } from '../protocol/worker';
import { compileModule } from '../userCode/compile';
import { checkModelFile } from '../userCode/fileCheck';
import { toRunError } from '../userCode/errors';
import { RunFailedError } from '../protocol';

export type PermissionMode = 'restricted' | 'off';

let writableDir: string | null = null;

/** The one folder a restricted model may write to (created once per host process, removed when it exits). */
export function restrictedWriteDir(): string {
  if (!writableDir) {
    const dir = mkdtempSync(join(tmpdir(), 'normscope-run-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    writableDir = dir;
  }
  return writableDir;
}

const flags = process.allowedNodeEnvironmentFlags;

/** Node's flags for a worker with these permissions; throws when this Node has no permission model. */
export function permissionArgs(mode: PermissionMode): string[] {
  if (mode === 'off') return [];
  // Node 20–22 call it --experimental-permission; later versions --permission.
  const enable = flags.has('--permission') ? '--permission' : flags.has('--experimental-permission') ? '--experimental-permission' : null;
  if (!enable || !flags.has('--allow-worker')) {
    throw new Error(
      `this Node.js (${process.version}) has no permission model; turn off normscope.restrictPermissions (CLI: --no-restrict) to run the model with your own rights`,
    );
  }
  const quiet = flags.has('--disable-warning') ? ['--disable-warning=ExperimentalWarning', '--disable-warning=SecurityWarning'] : [];
  return [enable, '--allow-fs-read=*', `--allow-fs-write=${restrictedWriteDir()}`, '--allow-worker', ...quiet];
}

/**
 * The model compiled on the host, for a restricted worker (esbuild runs as a child process, which the
 * worker may not start), exposing the `expose` functions (WorkerClientOptions.exposedBindings).
 * model.json files need no compiling. Throws a RunFailedError (syntax, bad file).
 */
export async function prepareRestricted(file: string, expose: readonly string[] = []): Promise<PreparedModule | undefined> {
  try {
    checkModelFile(file);
    if (file.toLowerCase().endsWith('.json')) return undefined;
    return await compileModule(file, expose);
  } catch (e) {
    throw new RunFailedError(toRunError(e));
  }
}
