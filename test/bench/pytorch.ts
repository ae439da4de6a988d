/**
 * PyTorch CNN step, plain vs instrumented (every layer measured every step), timed by
 * test/bench/pytorch_overhead.py with the interpreter NormScope would choose (src/runner/pythonInterpreter);
 * `functional`: the same CNN with F.relu in forward (one process).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { resolvePython } from '../../src/runner/pythonInterpreter';
import { errorMessage } from '../../src/protocol';

const ROOT = [path.resolve(__dirname, '../../..'), path.resolve('.')].find((p) => fs.existsSync(path.join(p, 'python/normscope')))!;

// Both sides allocate the same way: glibc keeps freed memory instead of unmapping it (see pytorch_overhead.py).
const FIXED_MALLOC_THRESHOLDS = 'glibc.malloc.mmap_threshold=1073741824:glibc.malloc.trim_threshold=4294967296';

// One process's ratio moves by a few hundredths with where its memory landed (plain steps alone vary ±15% from one
// process to the next), so the bench runs PROCESSES of them and reports the one with the median overhead, listing all.
const PROCESSES = 3;

interface PytorchRun {
  overhead: number;
  plainStepMs: number;
  instrumentedStepMs: number;
  [key: string]: unknown;
}

function runOne(python: string, args: string[]): PytorchRun {
  const out = execFileSync(python, [path.join(ROOT, 'test/bench/pytorch_overhead.py'), '30', ...args], {
    env: { ...process.env, PYTHONPATH: path.join(ROOT, 'python'), PYTHONDONTWRITEBYTECODE: '1', GLIBC_TUNABLES: FIXED_MALLOC_THRESHOLDS },
    encoding: 'utf8',
    timeout: 300_000,
  });
  return JSON.parse(out.trim().split('\n').pop()!) as PytorchRun;
}

export async function benchPytorch(): Promise<Record<string, unknown>> {
  let python;
  try {
    python = await resolvePython({});
  } catch (e) {
    return { skipped: errorMessage(e) };
  }
  const runs: PytorchRun[] = [];
  for (let k = 0; k < PROCESSES; k++) runs.push(runOne(python.path, []));
  const median = [...runs].sort((a, b) => a.overhead - b.overhead)[Math.floor(runs.length / 2)];
  // The same CNN with F.relu in forward (functional-activation rows, watched by a TorchFunctionMode): one process.
  const functional = runOne(python.path, ['--functional']);
  return {
    python: python.path,
    allocator: `GLIBC_TUNABLES=${FIXED_MALLOC_THRESHOLDS}`,
    ...median,
    processes: runs.map((r) => ({ overhead: r.overhead, plainStepMs: r.plainStepMs, instrumentedStepMs: r.instrumentedStepMs })),
    functional: {
      overhead: functional.overhead,
      cpuOverhead: functional.cpuOverhead,
      plainStepMs: functional.plainStepMs,
      layers: functional.layers,
    },
  };
}
