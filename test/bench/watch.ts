/**
 * `npm run bench -- --only watch`: normscope.watch's cost in a user's own PyTorch loop (test/bench/watch_bench.py):
 * the bench CNN at every=1 and every=10 against plain steps, kuangliu's CIFAR ResNet-18 (a step as long as users'),
 * a 2-rank DDP run against plain DDP at every=1 and every=10 (gloo on the CPU, ranks started by hand), and the 100,000-step MLP at every=10
 * (its folder's bytes and resident memory; test/bench/runlog_bench.py's run, which uses watch()).
 * Targets (issue 23): every=1 ≤ 1.10×, every=10 ≤ 1.02×, DDP ≤ 1.15×, the MLP's log ≤ 50 MB with flat memory.
 */
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { resolvePython } from '../../src/runner/pythonInterpreter';
import { errorMessage } from '../../src/protocol';
import { freePort } from '../unit/free-port';

const ROOT = [path.resolve(__dirname, '../../..'), path.resolve('.')].find((p) =>
  fs.existsSync(path.join(p, 'test/bench/watch_bench.py')),
)!;
const SCRIPT = path.join(ROOT, 'test/bench/watch_bench.py');
// As test/bench/pytorch.ts: both sides allocate the same way (glibc keeps freed memory instead of unmapping it).
const FIXED_MALLOC_THRESHOLDS = 'glibc.malloc.mmap_threshold=1073741824:glibc.malloc.trim_threshold=4294967296';
/** Processes per CNN measurement: the one with the median every=1 overhead is reported, all are listed. */
const PROCESSES = 3;

function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PYTHONPATH: path.join(ROOT, 'python'),
    PYTHONDONTWRITEBYTECODE: '1',
    GLIBC_TUNABLES: FIXED_MALLOC_THRESHOLDS,
    ...extra,
  };
}

function lastJson(printed: string): Record<string, unknown> {
  return JSON.parse(printed.trim().split('\n').pop()!) as Record<string, unknown>;
}

function run(python: string, args: string[]): Record<string, unknown> {
  return lastJson(execFileSync(python, [SCRIPT, ...args], { env: env(), encoding: 'utf8', timeout: 600_000 }));
}

/** Both ranks of the DDP measurement; rank 0's line. */
async function ddp(python: string, rounds: number): Promise<Record<string, unknown>> {
  const port = String(await freePort());
  const ranks = [0, 1].map(
    (rank) =>
      new Promise<string>((resolve, reject) => {
        const child = spawn(python, [SCRIPT, 'ddp', String(rounds)], {
          env: env({ RANK: String(rank), WORLD_SIZE: '2', MASTER_ADDR: '127.0.0.1', MASTER_PORT: port }),
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let out = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => (out += d.toString()));
        child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`rank ${rank} exited with ${code}: ${out}`))));
      }),
  );
  const [zero] = await Promise.all(ranks);
  return lastJson(zero);
}

const overheadOf = (r: Record<string, unknown>, key: string) => (r[key] as { overhead: number }).overhead;

export async function benchWatch(): Promise<Record<string, unknown>> {
  let python;
  try {
    python = await resolvePython({});
  } catch (e) {
    return { skipped: errorMessage(e) };
  }
  const cnn = Array.from({ length: PROCESSES }, () => run(python.path, ['cnn', '30']));
  const median = [...cnn].sort((a, b) => overheadOf(a, 'every1') - overheadOf(b, 'every1'))[Math.floor(cnn.length / 2)];
  const out: Record<string, unknown> = {
    python: python.path,
    cnn: { ...median, processes: cnn.map((r) => ({ every1: overheadOf(r, 'every1'), every10: overheadOf(r, 'every10') })) },
    resnet18: run(python.path, ['resnet', '8']),
  };
  try {
    // 2 ranks on a shared machine vary the most: the median of PROCESSES launches, all listed
    const launches: Record<string, unknown>[] = [];
    for (let k = 0; k < PROCESSES; k++) launches.push(await ddp(python.path, 20));
    const byEvery1 = [...launches].sort((a, b) => overheadOf(a, 'every1') - overheadOf(b, 'every1'));
    out.ddp = {
      ...byEvery1[Math.floor(launches.length / 2)],
      launches: launches.map((r) => ({ every1: overheadOf(r, 'every1'), every10: overheadOf(r, 'every10') })),
    };
  } catch (e) {
    out.ddp = { skipped: errorMessage(e) };
  }
  const mlp = execFileSync(
    python.path,
    ['-c', 'import runlog_bench, tempfile, json; print(json.dumps(runlog_bench.mlp_run(tempfile.mkdtemp())))'],
    {
      env: { ...env(), PYTHONPATH: [path.join(ROOT, 'python'), path.join(ROOT, 'test/bench')].join(path.delimiter) },
      encoding: 'utf8',
      timeout: 600_000,
    },
  );
  out.mlp = lastJson(mlp);
  return out;
}
