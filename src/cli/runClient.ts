/** The client a CLI command trains with: the Python engine for .py files, else the tfjs worker; both with the CLI's limits. */
import { isPythonModel, PythonClient, pythonEnginePath } from '../runner/pythonClient';
import { WorkerClient } from '../runner/workerClient';
import { CLI_LIMIT_NAMES, type RunLimits } from './args';
import { exposedBindings } from './builderArgs';

export function cliRunClient(
  file: string,
  workerPath: string,
  limits: RunLimits,
  options: { stderr: { write(text: string): unknown }; python?: string },
): WorkerClient | PythonClient {
  // Worker logs reach the terminal only when they are errors, or with NORMSCOPE_DEBUG set.
  const log = (level: string, message: string) => {
    if (process.env.NORMSCOPE_DEBUG || level === 'error') options.stderr.write(`[${level}] ${message}\n`);
  };
  const common = { runTimeoutMs: limits.runTimeoutMs, maxMemoryMB: limits.maxMemoryMB, limitNames: CLI_LIMIT_NAMES, log };
  // The user's own prints and Python's warnings reach the terminal as they would running the file with python.
  const output = (line: string) => options.stderr.write(`${line}\n`);
  return isPythonModel(file)
    ? new PythonClient({ enginePath: pythonEnginePath(workerPath), explicit: options.python, output, ...common })
    : new WorkerClient({ workerPath, exposedBindings, ...common });
}
