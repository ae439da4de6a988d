/**
 * `normscope` — NormScope's headless command line, for CI and scripts. Each subcommand lives in its own
 * module and returns its exit code: 0 ok, 1 a finding of a --fail-on kind, 2 an error (message on stderr),
 * 130 cancelled (Ctrl-C, SIGTERM).
 */
import { join } from 'node:path';
import { checkCommand } from './check';
import { compareCommand } from './compare';
import { lintCommand } from './lint';
import { reportCommand } from './report';
import { pythonEnginePath } from '../runner/pythonClient';
import { runCommand } from './run';
import { swapCommand } from './swap';
import { watchCommand } from './watch';
import { errorMessage } from '../protocol';

const USAGE = `Usage: normscope <command> [options]

Commands:
  check <file>            train the model briefly and measure every layer
                          [--steps N=50] [--batch-size B] [--backend auto|tensorflow|wasm|cpu]
                          [--seed S] [--sampling-interval K] [--threshold name=value]...
                          [--model <functionName>] [--args '<JSON array>']
                          [--json] [--fail-on kind,...] (runtime and static kinds)
                          [--timeout S=300] [--max-memory MB=4096] [--no-restrict]
                          for a .py PyTorch model: [--python <interpreter>]
                          [--args '<Python arguments, as between a call's parentheses>']
                          [--input-shape '[C, H, W]'] (without the batch dimension)
  run <script> [-- args]  run your own training script; measure every model it trains
                          (fit, fitDataset, trainOnBatch) on its real data
                          [--steps N|all] [--backend ...] [--seed S] [--json] [--fail-on kind,...]
                          [--timeout S=300] [--max-memory MB=4096]
  lint <file>             static checks only (no training) [--json] (.js, .ts or a PyTorch .py)
  swap <file>:<line>      swap the normalization on that line
                          --to batchNorm|layerNorm|groupNorm|rmsNorm|instanceNorm [--write]
  compare <file>:<line>   train the model with each candidate norm and compare
                          --to layerNorm,groupNorm,rmsNorm [--steps N] [--json]
                          [--model <functionName>] [--args '<JSON array>'] [--input-shape (.py)]
                          [--timeout S=300] [--max-memory MB=4096] [--no-restrict]
  report [<run-dir>]      the report of your own training's run log (normscope.watch in
                          Python, normscopeCallback in TensorFlow.js), as check prints it
                          [--json] [--fail-on kind,...] [--threshold name=value]...
                          [--root <project root>] (where the run's relative paths map)
  watch [<run-dir>]       follow a run log as it is written: progress, findings as they
                          appear, the end [--fail-on kind,...] [--quiet S=60] [--root ...]
                          (<run-dir> defaults to the newest under $NORMSCOPE_DIR or
                          ./.normscope/runs; a folder of runs means its newest)

Limits of a run (check, compare):
  --timeout S             stop a run after S seconds
  --max-memory MB         stop a run whose worker uses more than MB of resident memory
  --no-restrict           run the model with your own rights instead of least privilege: Node's
                          permission model, Landlock for a .py model on Linux 5.13+ (by default
                          it may read files, write only to a temp folder, and may not start
                          programs, load native addons or open network connections)

Exit codes: 0 ok, 1 a finding of a --fail-on kind, 2 an error, 130 cancelled (Ctrl-C, SIGTERM;
            the steps measured so far are still printed)

Options: --help, --version`;

/** How long a finished command may wait for its last handles to close before it exits anyway. */
const EXIT_GRACE_MS = 1000;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const workerPath = join(__dirname, 'worker.js');
  switch (command) {
    case 'check':
      return checkCommand(rest, workerPath);
    case 'run':
      return runCommand(rest, workerPath);
    case 'lint':
      return lintCommand(rest, pythonEnginePath(workerPath));
    case 'swap':
      return swapCommand(rest, pythonEnginePath(workerPath));
    case 'compare':
      return compareCommand(rest, workerPath);
    case 'report':
      return reportCommand(rest);
    case 'watch':
      return watchCommand(rest);
    case '--version':
    case '-v':
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- read at run time, not bundled
      process.stdout.write(`${require('../../package.json').version}\n`);
      return 0;
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      process.stdout.write(`${USAGE}\n`);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`normscope: unknown command '${command}'\n\n${USAGE}\n`);
      return 2;
  }
}

// `normscope check x.js | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

/**
 * Nothing a finished command leaves behind may keep the CLI alive (a CI job waiting for ever on a pipe some orphan
 * holds): once its output is written out, it exits. The timer does not itself keep the process alive.
 */
function exitWhenPrinted(code: number): void {
  setTimeout(() => {
    if (process.stdout.writableLength === 0 && process.stderr.writableLength === 0) process.exit(code);
    else exitWhenPrinted(code);
  }, EXIT_GRACE_MS).unref();
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    exitWhenPrinted(code);
  },
  (e) => {
    process.stderr.write(`normscope: ${errorMessage(e)}\n`);
    process.exitCode = 2;
    exitWhenPrinted(2);
  },
);
