/**
 * Training-step benchmark across backends, all measured in one process so that the ratios hold
 * on a shared or busy machine: stock cpu, cpu + NormScope kernels, wasm + NormScope kernels and,
 * where it loads, tfjs-node. Run directly (`node dist/test/bench/backends.js [steps]`) to print JSON;
 * scripts/bench.mjs calls `benchBackends`.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { registerFastKernels, restoreStockKernels } from '../../src/worker/kernels/index';
import { buildCnn, buildMlp } from './models';
import { benchVsPytorch, type VsPytorch } from './vsPytorch';

type Tf = typeof tf;
export interface StepTimes {
  stockCpuStepMs: number;
  cpuStepMs: number;
  wasmStepMs: number;
  tensorflowStepMs: number | null;
}
export interface KernelTimes {
  stockCpuMs: number;
  cpuMs: number;
  wasmMs: number;
}
export interface BackendBench {
  /** Wall-clock medians: what a user waits for. */
  cnn: StepTimes;
  mlp: StepTimes;
  conv2dBackpropFilter: KernelTimes;
  /**
   * The same medians in process CPU time (user + system). wasm and cpu run on one thread, so on an
   * idle machine this equals wall time; on a shared one it leaves out time spent waiting for a core.
   */
  cpuTime: { cnn: StepTimes; mlp: StepTimes; conv2dBackpropFilter: KernelTimes };
  /** The CNN and MLP on wasm against PyTorch on one thread, alternating in this run (./vsPytorch.ts). */
  vsPytorch: VsPytorch | { skipped: string };
  /** 1-minute load average before and after the run, to judge how busy the machine was. */
  loadAverage: [number, number];
}

interface Timing {
  wallMs: number;
  cpuMs: number;
}

/** Median wall and CPU time of `run` over `steps` calls after `warmup` calls. */
async function timeCalls(run: () => Promise<void> | void, warmup: number, steps: number): Promise<Timing> {
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < warmup + steps; i++) {
    const cpuStart = process.cpuUsage();
    const start = performance.now();
    await run();
    const used = process.cpuUsage(cpuStart);
    if (i >= warmup) {
      wall.push(performance.now() - start);
      cpu.push((used.user + used.system) / 1000);
    }
  }
  return { wallMs: median(wall), cpuMs: median(cpu) };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Training-step times (trainOnBatch reads the loss back, so each step is complete). */
async function timeTraining(t: Tf, build: (t: Tf) => tf.LayersModel, xShape: number[], warmup: number, steps: number): Promise<Timing> {
  const model = build(t);
  model.compile({ optimizer: t.train.adam(1e-3), loss: 'categoricalCrossentropy' });
  const x = t.randomNormal(xShape, 0, 1, 'float32', 1);
  const y = t.oneHot(t.randomUniform([xShape[0]], 0, 10, 'int32', 2) as tf.Tensor1D, 10);
  const timing = await timeCalls(
    async () => {
      await model.trainOnBatch(x, y);
    },
    warmup,
    steps,
  );
  t.dispose([x, y]);
  model.dispose();
  return timing;
}

/** The Conv2DBackpropFilter call: x[32,14,14,8], f[3,3,8,16], stride 1, same. */
async function timeBackpropFilter(warmup: number, steps: number): Promise<Timing> {
  const x = tf.randomNormal([32, 14, 14, 8], 0, 1, 'float32', 3);
  const dy = tf.randomNormal([32, 14, 14, 16], 0, 1, 'float32', 4);
  const timing = await timeCalls(
    () => {
      const dw = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, {
        strides: 1,
        pad: 'same',
        dataFormat: 'NHWC',
        filterShape: [3, 3, 8, 16],
      } as unknown as tf.NamedAttrMap) as tf.Tensor;
      dw.dataSync();
      dw.dispose();
    },
    warmup,
    steps,
  );
  tf.dispose([x, dy]);
  return timing;
}

/** Next to the bundle (dist/wasm, copied by esbuild.mjs) or in node_modules when run from the repo root. */
function wasmDir(): string {
  const candidates = [
    path.join(__dirname, '..', '..', 'wasm'),
    path.join(process.cwd(), 'node_modules/@tensorflow/tfjs-backend-wasm/dist'),
  ];
  const found = candidates.find((d) => fs.existsSync(path.join(d, 'tfjs-backend-wasm.wasm')));
  if (!found) throw new Error(`benchBackends: tfjs-backend-wasm .wasm files not found in ${candidates.join(' or ')}`);
  return found + path.sep;
}

/** tfjs-node is optional and often not installable; null when it does not load. */
function loadTfjsNode(): Tf | null {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('@tensorflow/tfjs-node') as Tf;
  } catch {
    return null;
  }
}

export async function benchBackends(opts: { steps?: number } = {}): Promise<BackendBench> {
  const steps = Math.max(5, opts.steps ?? 10);
  // JS kernels need ~8 calls before V8 has optimized them (the first wasm CNN steps take 3-6x longer).
  const warmup = 10;
  // Stock cpu takes seconds per CNN step: keep it to the minimum that gives an honest median
  // (its kernels are JS too, but one 2-5 s step is plenty of warm-up).
  const stockSteps = 5;
  const loadBefore = os.loadavg()[0];
  setWasmPaths(wasmDir());
  const vsPytorch = await benchVsPytorch();

  await tf.setBackend('wasm');
  registerFastKernels('wasm');
  const wasmCnn = await timeTraining(tf, buildCnn, [32, 28, 28, 1], warmup, steps);
  const wasmMlp = await timeTraining(tf, buildMlp, [32, 784], warmup, steps);
  const wasmBpf = await timeBackpropFilter(warmup, steps);

  await tf.setBackend('cpu');
  registerFastKernels('cpu');
  const cpuCnn = await timeTraining(tf, buildCnn, [32, 28, 28, 1], warmup, steps);
  const cpuMlp = await timeTraining(tf, buildMlp, [32, 784], warmup, steps);
  const cpuBpf = await timeBackpropFilter(warmup, steps);

  // Fully stock: our gradient overrides are global and stay while any backend has our kernels.
  restoreStockKernels('wasm');
  restoreStockKernels('cpu');
  const stockCnn = await timeTraining(tf, buildCnn, [32, 28, 28, 1], 1, stockSteps);
  const stockMlp = await timeTraining(tf, buildMlp, [32, 784], warmup, steps);
  const stockBpf = await timeBackpropFilter(1, stockSteps);
  registerFastKernels('cpu');
  registerFastKernels('wasm');

  let tfCnn: Timing | null = null;
  let tfMlp: Timing | null = null;
  const tfn = loadTfjsNode();
  if (tfn && (await tfn.setBackend('tensorflow'))) {
    tfCnn = await timeTraining(tfn, buildCnn, [32, 28, 28, 1], warmup, steps);
    tfMlp = await timeTraining(tfn, buildMlp, [32, 784], warmup, steps);
  }

  const pick = (key: keyof Timing) => ({
    cnn: { stockCpuStepMs: stockCnn[key], cpuStepMs: cpuCnn[key], wasmStepMs: wasmCnn[key], tensorflowStepMs: tfCnn ? tfCnn[key] : null },
    mlp: { stockCpuStepMs: stockMlp[key], cpuStepMs: cpuMlp[key], wasmStepMs: wasmMlp[key], tensorflowStepMs: tfMlp ? tfMlp[key] : null },
    conv2dBackpropFilter: { stockCpuMs: stockBpf[key], cpuMs: cpuBpf[key], wasmMs: wasmBpf[key] },
  });
  return { ...pick('wallMs'), cpuTime: pick('cpuMs'), vsPytorch, loadAverage: [loadBefore, os.loadavg()[0]] };
}

if (require.main === module) {
  const steps = process.argv[2] ? Number(process.argv[2]) : undefined;
  if (steps !== undefined && !(Number.isInteger(steps) && steps > 0)) {
    console.error(`test/bench/backends.ts: steps must be a positive integer, got '${process.argv[2]}'`);
    process.exit(2);
  }
  benchBackends({ steps }).then(
    (result) => console.log(JSON.stringify(result, null, 2)),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
