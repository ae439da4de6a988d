// Shared by the engine-, loader- and runner- tests: where the fixtures and the built worker are,
// and a helper that runs the engine in-process and collects its events.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkCommand } from '../../src/cli/check';
import { capturingIO } from './capture';
import { runTraining } from '../../src/worker/engine';
import { RunFailedError } from '../../src/protocol';
import type { LogEvent, RunError, RunEvent, RunOptions, RunReport } from '../../src/protocol';

function firstExisting(candidates: string[]): string {
  return candidates.find((p) => fs.existsSync(p)) ?? candidates[candidates.length - 1];
}

/** test/fixtures/models, from dist/test/unit (npm test) or the repository root (cwd). */
export const FIXTURES = firstExisting([path.resolve(__dirname, '../../../test/fixtures/models'), path.resolve('test/fixtures/models')]);
export const EXAMPLES = firstExisting([path.resolve(__dirname, '../../../examples'), path.resolve('examples')]);
/** dist/worker.js (built by `node esbuild.mjs`). */
export const WORKER = firstExisting([path.resolve(__dirname, '../../worker.js'), path.resolve('dist/worker.js')]);

export const fixture = (name: string) => path.join(FIXTURES, name);

export function runOptions(file: string, overrides: Partial<RunOptions> = {}): RunOptions {
  return { file, steps: 3, backend: 'cpu', seed: 7, samplingInterval: 1, ...overrides };
}

export interface Outcome {
  report?: RunReport;
  error?: RunError;
  events: RunEvent[];
  /** The run's log lines (the worker forwards them to the host's log). */
  logs: LogEvent[];
}

/** Runs in-process; a failure is returned (with the emitted `error` event), not thrown. */
export async function runInProcess(
  file: string,
  overrides: Partial<RunOptions> = {},
  signal = new AbortController().signal,
): Promise<Outcome> {
  const events: RunEvent[] = [];
  const logs: LogEvent[] = [];
  const onEvent = (e: RunEvent | LogEvent) => (e.type === 'log' ? logs.push(e) : events.push(e));
  try {
    const report = await runTraining(runOptions(file, overrides), onEvent, signal);
    return { report, events, logs };
  } catch (e) {
    if (!(e instanceof RunFailedError)) throw e;
    return { error: e.runError, events, logs };
  }
}

/** `normscope check <args>` through the built worker, with its exit code and output. */
export async function runCheckCommand(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const { io, printed } = capturingIO();
  const code = await checkCommand(args, WORKER, io);
  return { code, ...printed };
}
