/**
 * Overhead of measuring a real `fit()` (issue 11): one training script (test/fixtures/scripts/bench/
 * fit-mlp.js: an MLP with BN and LN, model.fit with a per-batch callback) runs once through
 * `runScript`, and its batches alternate between measured and plain in blocks (ABBA, as in
 * ./overhead), so both kinds see the same script, data, process and machine load. A batch's time is
 * the whole cycle of fit's loop, from one call of the train function to the next (slicing the
 * batch, the step, reading the loss, the script's callback). `ratio` = measured ÷ plain, CPU time
 * (process.cpuUsage, as in ./overhead: not inflated by other processes on the cores); wall clock alongside.
 */
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { selectBackend } from '../../src/worker/backend';
import { registerNormLayers } from '../../src/layers';
import { median } from '../../src/diagnosis/report';
import { runScript } from '../../src/worker/script/run';
import * as tf from '@tensorflow/tfjs';

const WARMUP_STEPS = 40;
const BLOCKS = 16;
const BLOCK_STEPS = 10;
/** First steps of a block, not counted: they pay for the other kind's garbage and cache state. */
const BLOCK_SETTLE = 2;

const SCRIPT = [
  path.resolve(__dirname, '../../../test/fixtures/scripts/bench/fit-mlp.js'),
  path.resolve('test/fixtures/scripts/bench/fit-mlp.js'),
].find((p) => fs.existsSync(p))!;

export interface ScriptOverheadResult {
  script: string;
  steps: number;
  measuredBatchMs: number;
  plainBatchMs: number;
  ratio: number;
  wallMeasuredBatchMs: number;
  wallPlainBatchMs: number;
  wallRatio: number;
}

const round = (v: number) => Math.round(v * 1000) / 1000;

/** One run of the script with `measureStep` deciding which batches are measured. */
async function runBenchScript(steps: number, measureStep: (step: number) => boolean): Promise<void> {
  const backend = await selectBackend('auto');
  registerNormLayers(tf);
  const options = { file: SCRIPT, steps, backend: 'auto' as const, seed: 1, samplingInterval: 1, script: { args: ['--epochs', '100'] } };
  // What the script prints would corrupt the benchmark's JSON on stdout.
  const write = process.stdout.write;
  process.stdout.write = (() => true) as typeof process.stdout.write;
  tf.engine().startScope();
  try {
    await runScript({
      options,
      backend,
      emit: () => undefined,
      signal: new AbortController().signal,
      runId: randomUUID(),
      started: performance.now(),
      measureStep,
    });
  } finally {
    tf.engine().endScope();
    process.stdout.write = write;
  }
}

export async function benchScriptOverhead(): Promise<ScriptOverheadResult> {
  // A first, unreported run, as the long-lived worker has done before (V8 tiers tfjs and the
  // instrumentation up over the first few hundred steps; see ./overhead `warmUp`).
  await runBenchScript(WARMUP_STEPS * 4, (step) => step % 2 === 0);
  const steps = WARMUP_STEPS + 2 * BLOCKS * BLOCK_STEPS + 1;
  const isMeasured = (step: number) =>
    step < WARMUP_STEPS ? step % 2 === 0 : [false, true, true, false][Math.floor((step - WARMUP_STEPS) / BLOCK_STEPS) % 4];
  // Start of each batch's cycle (the train function's call): wall and CPU clocks.
  const wallAt: number[] = [];
  const cpuAt: number[] = [];
  const measureStep = (step: number) => {
    wallAt[step] = performance.now();
    const cpu = process.cpuUsage();
    cpuAt[step] = (cpu.user + cpu.system) / 1000;
    return isMeasured(step);
  };
  await runBenchScript(steps, measureStep);
  const cycles = { measured: [] as number[], plain: [] as number[], wallMeasured: [] as number[], wallPlain: [] as number[] };
  for (let step = WARMUP_STEPS; step + 1 < wallAt.length; step++) {
    if ((step - WARMUP_STEPS) % BLOCK_STEPS < BLOCK_SETTLE) continue;
    const measured = isMeasured(step);
    (measured ? cycles.measured : cycles.plain).push(cpuAt[step + 1] - cpuAt[step]);
    (measured ? cycles.wallMeasured : cycles.wallPlain).push(wallAt[step + 1] - wallAt[step]);
  }
  const [m, p, wm, wp] = [cycles.measured, cycles.plain, cycles.wallMeasured, cycles.wallPlain].map(median);
  return {
    script: path.basename(SCRIPT),
    steps: wallAt.length,
    measuredBatchMs: round(m),
    plainBatchMs: round(p),
    ratio: round(m / p),
    wallMeasuredBatchMs: round(wm),
    wallPlainBatchMs: round(wp),
    wallRatio: round(wm / wp),
  };
}

if (/[\\/]scriptOverhead\.js$/.test(process.argv[1] ?? '')) {
  benchScriptOverhead().then(
    (result) => {
      process.stdout.write(`${JSON.stringify(result, null, process.argv.includes('--json') ? 0 : 2)}\n`);
    },
    (e) => {
      process.stderr.write(`bench failed: ${(e as Error).stack ?? e}\n`);
      process.exitCode = 1;
    },
  );
}
