/**
 * Runs for the run-log tests (src/runlog, python/normscope/runlog/writer.py): synthetic statistics with the events the
 * writers watch for, written by either writer from the same description (test/python/runlog_write.py is the Python
 * side), and the helpers that run Python here.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { delimiter } from 'node:path';
import { STAT_NAMES, type LayerInfo } from '../../src/protocol';
import { pythonEnginePath } from '../../src/runner/pythonClient';
import { resolvePython } from '../../src/runner/pythonInterpreter';
import { RunLogWriter } from '../../src/runlog/writer';
import { seededRandom } from '../../src/worker/training/seed';
import { WORKER } from './engine-fixtures';

export const PYTHON_TESTS = [path.resolve(__dirname, '../../../test/python'), path.resolve('test/python')].find((p) => fs.existsSync(p))!;
const W = STAT_NAMES.length;
const col = (name: (typeof STAT_NAMES)[number]) => STAT_NAMES.indexOf(name);

export type Op =
  | ['layers', LayerInfo[]]
  | ['sample', number, number, number, number, number] // step, loss index, stepMs, values offset, count
  | ['loss', number, number] // step, loss index
  | ['skipped', number, string]
  | ['info', Record<string, unknown>]
  | ['close', string]
  | ['print', string]
  | ['sleep', number]
  | ['exit'];

/** A run: what to call on a writer, with every float (losses, values) in one float64 pool referenced by index. */
export interface Run {
  ops: Op[];
  pool: number[];
}

export function layerTable(count: number, file = '/project/model.py', from = 0): LayerInfo[] {
  return Array.from({ length: count }, (_, k) => {
    const i = from + k;
    const relu = i % 2 === 1;
    return {
      index: i,
      name: relu ? `act${i}` : `fc${i}`,
      className: relu ? 'ReLU' : 'Linear',
      outputShape: [null, 16],
      paramCount: relu ? 0 : 272,
      ...(relu ? { activation: 'relu' } : {}),
      isNorm: false,
      source: { file, line: 10 + i, column: 9 },
    };
  });
}

export interface SyntheticOptions {
  layers: number;
  steps: number;
  seed?: number;
  /** Sample every Nth step; the others record only the loss. */
  every?: number;
  /** This layer's dead fraction is 1 from this step on. */
  dies?: { layer: number; step: number };
  /** More layers join the table at this step (a layer first called later). */
  grows?: { step: number; layers: number };
  /** Sprinkle NaN (does not apply), ±Inf, -0 and subnormals into the values. */
  odd?: boolean;
  /** A loss spike, a gradient jump and a non-finite gradient at these steps. */
  spikes?: number[];
  file?: string;
}

/** A run whose values follow noisy random walks, with the given failures. */
export function syntheticRun(o: SyntheticOptions): Run {
  const rnd = seededRandom(o.seed ?? 1);
  const pool: number[] = [];
  const put = (v: number) => pool.push(v) - 1;
  let rows = o.layers;
  const ops: Op[] = [['layers', layerTable(rows, o.file)]];
  const every = o.every ?? 1;
  let loss = 2;
  for (let step = 0; step < o.steps; step++) {
    if (o.grows && step === o.grows.step) {
      ops.push(['layers', [...layerTable(rows, o.file), ...layerTable(o.grows.layers, o.file, rows)]]);
      rows += o.grows.layers;
    }
    const spike = o.spikes?.includes(step) ?? false;
    loss = loss * 0.999 + 0.01 * (rnd() - 0.5);
    const lossIndex = put(spike ? loss * 20 : loss);
    if (step % every !== 0) {
      ops.push(['loss', step, lossIndex]);
      continue;
    }
    const offset = pool.length;
    for (let l = 0; l < rows; l++) {
      const row = new Array<number>(W).fill(NaN);
      const relu = l % 2 === 1;
      row[col('mean')] = 0.1 * (rnd() - 0.5);
      row[col('variance')] = 1 + 0.2 * rnd();
      row[col('std')] = Math.sqrt(row[col('variance')]);
      row[col('min')] = -3 * rnd();
      row[col('max')] = 3 * rnd();
      row[col('nonFinite')] = 0;
      row[col('zeroFraction')] = relu ? 0.5 : 0;
      row[col('activationGradNorm')] = 0.05 + 0.01 * rnd();
      if (relu) row[col('deadFraction')] = o.dies && o.dies.layer === l && step >= o.dies.step ? 1 : 0.1 * rnd();
      else {
        row[col('weightNorm')] = 3 + rnd();
        row[col('gradNorm')] = spike ? 50 : 0.1 + 0.05 * rnd();
        row[col('updateNorm')] = 0.003;
        row[col('updateRatio')] = 0.001 * (1 + rnd());
      }
      if (o.odd) {
        const r = rnd();
        if (r < 0.02) row[col('max')] = Infinity;
        else if (r < 0.04) row[col('mean')] = -0;
        else if (r < 0.06)
          row[col('min')] = 1e-42; // a float32 subnormal
        else if (r < 0.08) row[col('gain')] = 1e39; // beyond float32: Inf
      }
      pool.push(...row);
    }
    ops.push(['sample', step, lossIndex, 1 + rnd(), offset, rows * W]);
  }
  return { ops, pool };
}

export interface WriteOptions {
  dir: string;
  projectRoot?: string;
  script?: string;
  budget?: number;
  meta?: Record<string, unknown>;
  /** Python: the events' numpy path (default) or their loop. */
  numpy?: boolean;
}

/** Writes `run` with the TypeScript writer (src/runlog/writer.ts). */
export function writeWithTs(run: Run, o: WriteOptions): RunLogWriter {
  const writer = new RunLogWriter({
    dir: o.dir,
    projectRoot: o.projectRoot ?? '/project',
    script: o.script ?? null,
    budgetBytes: o.budget,
    meta: o.meta,
    engine: 'pytorch',
  });
  for (const op of run.ops) {
    if (op[0] === 'layers') writer.layers(op[1]);
    else if (op[0] === 'sample') writer.sample(op[1], run.pool[op[2]], op[3], run.pool.slice(op[4], op[4] + op[5]));
    else if (op[0] === 'loss') writer.loss(op[1], run.pool[op[2]]);
    else if (op[0] === 'skipped') writer.skipped(op[1], op[2]);
    else if (op[0] === 'info') writer.info(op[1]);
    else if (op[0] === 'close') writer.close(op[1]);
  }
  return writer;
}

/** The interpreter (with torch) and the environment that imports python/normscope. */
export async function python(): Promise<{ path: string; env: NodeJS.ProcessEnv }> {
  const found = await resolvePython({});
  return {
    path: found.path,
    env: { ...process.env, PYTHONPATH: [pythonEnginePath(WORKER), process.env.PYTHONPATH].filter(Boolean).join(delimiter) },
  };
}

/** The spec and values files of `run` for test/python/runlog_write.py, in `scratch`. */
function pythonSpec(run: Run, o: WriteOptions, scratch: string): string {
  fs.mkdirSync(scratch, { recursive: true });
  const values = path.join(scratch, 'values.f64');
  fs.writeFileSync(values, Buffer.from(new Float64Array(run.pool).buffer));
  const spec = path.join(scratch, 'spec.json');
  fs.writeFileSync(
    spec,
    JSON.stringify({
      dir: o.dir,
      projectRoot: o.projectRoot ?? '/project',
      script: o.script ?? null,
      budget: o.budget ?? null,
      meta: o.meta ?? null,
      numpy: o.numpy ?? true,
      values,
      ops: run.ops,
    }),
  );
  return spec;
}

/** Writes `run` with the Python writer; resolves with its output, rejects with its stderr on failure. */
export async function writeWithPython(run: Run, o: WriteOptions, scratch: string): Promise<string> {
  const spec = pythonSpec(run, o, scratch);
  const py = await python();
  return new Promise((resolve, reject) => {
    execFile(
      py.path,
      [path.join(PYTHON_TESTS, 'runlog_write.py'), spec],
      { env: py.env, timeout: 300_000, maxBuffer: 16 << 20 },
      (e, stdout, stderr) => (e ? reject(new Error(`${e.message}\n${stderr}`)) : resolve(stdout + stderr)),
    );
  });
}

/** Starts the Python writer on `run` without waiting (a live log for the follower and `normscope watch`). */
export async function startPythonWriter(run: Run, o: WriteOptions, scratch: string): Promise<ChildProcess> {
  const spec = pythonSpec(run, o, scratch);
  const py = await python();
  return spawn(py.path, [path.join(PYTHON_TESTS, 'runlog_write.py'), spec], { env: py.env, stdio: ['ignore', 'pipe', 'pipe'] });
}
