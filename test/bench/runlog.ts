/**
 * The run log's costs: the Python writer (test/bench/runlog_bench.py: per step, a 100,000-step MLP run at every=10,
 * 20,000 steps of 500 layers), and here the TypeScript side: the tfjs writer per sampled step, and reading and
 * diagnosing a full 500-layer log (what `normscope report` does).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { errorMessage, STAT_NAMES } from '../../src/protocol';
import { resolvePython } from '../../src/runner/pythonInterpreter';
import { readRunLog, runLogReport } from '../../src/runlog';
import { RunLogWriter } from '../../src/runlog/writer';

const ROOT = [path.resolve(__dirname, '../../..'), path.resolve('.')].find((p) => fs.existsSync(path.join(p, 'python/normscope')))!;
const W = STAT_NAMES.length;

function rows(layers: number, seed: number): number[] {
  const out: number[] = [];
  for (let l = 0; l < layers; l++) {
    const row = new Array<number>(W).fill(NaN);
    row.splice(0, 6, 0.01 * ((seed * 7 + l) % 13), 1, 1, -3, 3, 1);
    row[9] = 0;
    row[10] = 0.05;
    if (l % 2) row[7] = 0.1;
    else row.splice(11, 4, 3, 0.1 + 0.001 * (seed % 10), 0.003, 0.001);
    out.push(...row);
  }
  return out;
}

function tsWriter(dir: string, layers: number, samples: number): { usPerSample: number; bytes: number } {
  const writer = new RunLogWriter({ dir, projectRoot: '/project' });
  writer.layers(
    Array.from({ length: layers }, (_, i) => ({
      index: i,
      name: `l${i}`,
      className: 'Dense',
      outputShape: [null, 64],
      paramCount: 1,
      isNorm: false,
      source: null,
    })),
  );
  const pool = Array.from({ length: 8 }, (_, k) => rows(layers, k));
  const t = performance.now();
  for (let s = 0; s < samples; s++) writer.sample(s, 1, 1, pool[s % 8]);
  const usPerSample = ((performance.now() - t) / samples) * 1000;
  writer.close();
  const bytes = fs.readdirSync(dir).reduce((sum, f) => sum + fs.statSync(path.join(dir, f)).size, 0);
  return { usPerSample: Math.round(usPerSample * 10) / 10, bytes };
}

export async function benchRunlog(): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const dir = fs.mkdtempSync(path.join(tmpdir(), 'normscope-runlog-bench-'));
  try {
    out.tsWriter = Object.fromEntries(
      [10, 100, 500].map((n) => [`${n} layers`, tsWriter(path.join(dir, `ts-${n}`), n, n === 500 ? 6000 : 2000)]),
    );
    let t = performance.now();
    const log = readRunLog(path.join(dir, 'ts-500'));
    const readMs = performance.now() - t;
    t = performance.now();
    const report = runLogReport(log);
    out.read500 = {
      samples: log.samples.length,
      readMs: Math.round(readMs),
      reportMs: Math.round(performance.now() - t),
      findings: report.findings.length,
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  try {
    const python = await resolvePython({});
    const printed = execFileSync(python.path, [path.join(ROOT, 'test/bench/runlog_bench.py')], {
      env: { ...process.env, PYTHONPATH: path.join(ROOT, 'python'), PYTHONDONTWRITEBYTECODE: '1' },
      encoding: 'utf8',
      timeout: 600_000,
    });
    out.python = JSON.parse(printed.trim().split('\n').pop()!);
  } catch (e) {
    out.python = { skipped: errorMessage(e) };
  }
  return out;
}
