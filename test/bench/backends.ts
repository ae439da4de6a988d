/**
 * Training-step benchmark across backends, all measured in one process so that the ratios hold
 * on a shared or busy machine: stock cpu, cpu + NormScope kernels, wasm + NormScope kernels and,
 * where it loads, tfjs-node. Run directly (`node dist/test/bench/backends.js [steps]`) to print JSON;
 * scripts/bench.mjs calls `benchBackends`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { registerFastKernels, restoreStockKernels } from '../../src/worker/kernels/index';

type Tf = typeof tf;
export interface StepTimes { stockCpuStepMs: number; cpuStepMs: number; wasmStepMs: number; tensorflowStepMs: number | null }
export interface BackendBench {
  cnn: StepTimes;
  mlp: StepTimes;
  conv2dBackpropFilter: { stockCpuMs: number; cpuMs: number; wasmMs: number };
}

/** The CNN of issue 4 (batch 32, 28x28x1, Adam). */
function buildCnn(t: Tf): tf.LayersModel {
  const m = t.sequential();
  m.add(t.layers.conv2d({ inputShape: [28, 28, 1], filters: 8, kernelSize: 3, padding: 'same' }));
  m.add(t.layers.batchNormalization());
  m.add(t.layers.reLU());
  m.add(t.layers.maxPooling2d({ poolSize: 2 }));
  m.add(t.layers.conv2d({ filters: 16, kernelSize: 3, padding: 'same' }));
  m.add(t.layers.batchNormalization());
  m.add(t.layers.reLU());
  m.add(t.layers.maxPooling2d({ poolSize: 2 }));
  m.add(t.layers.flatten());
  m.add(t.layers.dense({ units: 10, activation: 'softmax' }));
  return m;
}

/** 784 → dense 256 → batchNorm → relu → dense 128 → layerNorm → relu → dense 10 softmax. */
function buildMlp(t: Tf): tf.LayersModel {
  const m = t.sequential();
  m.add(t.layers.dense({ inputShape: [784], units: 256 }));
  m.add(t.layers.batchNormalization());
  m.add(t.layers.reLU());
  m.add(t.layers.dense({ units: 128 }));
  m.add(t.layers.layerNormalization());
  m.add(t.layers.reLU());
  m.add(t.layers.dense({ units: 10, activation: 'softmax' }));
  return m;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Median wall time of `steps` training steps after `warmup` (trainOnBatch reads the loss, so each step is complete). */
async function timeTraining(t: Tf, build: (t: Tf) => tf.LayersModel, xShape: number[], warmup: number, steps: number): Promise<number> {
  const model = build(t);
  model.compile({ optimizer: t.train.adam(1e-3), loss: 'categoricalCrossentropy' });
  const x = t.randomNormal(xShape, 0, 1, 'float32', 1);
  const y = t.oneHot(t.randomUniform([xShape[0]], 0, 10, 'int32', 2) as tf.Tensor1D, 10);
  const times: number[] = [];
  for (let i = 0; i < warmup + steps; i++) {
    const start = performance.now();
    await model.trainOnBatch(x, y);
    if (i >= warmup) times.push(performance.now() - start);
  }
  t.dispose([x, y]);
  model.dispose();
  return median(times);
}

/** Median time of the Conv2DBackpropFilter call: x[32,14,14,8], f[3,3,8,16], stride 1, same. */
function timeBackpropFilter(warmup: number, steps: number): number {
  const x = tf.randomNormal([32, 14, 14, 8], 0, 1, 'float32', 3);
  const dy = tf.randomNormal([32, 14, 14, 16], 0, 1, 'float32', 4);
  const times: number[] = [];
  for (let i = 0; i < warmup + steps; i++) {
    const start = performance.now();
    const dw = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy },
      { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 8, 16] } as unknown as tf.NamedAttrMap) as tf.Tensor;
    dw.dataSync();
    if (i >= warmup) times.push(performance.now() - start);
    dw.dispose();
  }
  tf.dispose([x, dy]);
  return median(times);
}

/** Next to the bundle (dist/wasm, copied by esbuild.mjs) or in node_modules when run from the repo root. */
function wasmDir(): string {
  const candidates = [path.join(__dirname, '..', '..', 'wasm'), path.join(process.cwd(), 'node_modules/@tensorflow/tfjs-backend-wasm/dist')];
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
  const steps = Math.max(5, opts.steps ?? 5);
  // Stock cpu takes seconds per CNN step: keep it to the minimum that gives an honest median.
  const stockSteps = 5;
  setWasmPaths(wasmDir());

  await tf.setBackend('wasm');
  registerFastKernels('wasm');
  const wasmCnn = await timeTraining(tf, buildCnn, [32, 28, 28, 1], 3, steps);
  const wasmMlp = await timeTraining(tf, buildMlp, [32, 784], 3, steps);
  const wasmBpf = timeBackpropFilter(3, Math.max(steps, 10));

  await tf.setBackend('cpu');
  registerFastKernels('cpu');
  const cpuCnn = await timeTraining(tf, buildCnn, [32, 28, 28, 1], 2, steps);
  const cpuMlp = await timeTraining(tf, buildMlp, [32, 784], 2, steps);
  const cpuBpf = timeBackpropFilter(2, Math.max(steps, 10));

  // Fully stock: our Tile gradient is global and stays while any backend has our kernels.
  restoreStockKernels('wasm');
  restoreStockKernels('cpu');
  const stockCnn = await timeTraining(tf, buildCnn, [32, 28, 28, 1], 1, stockSteps);
  const stockMlp = await timeTraining(tf, buildMlp, [32, 784], 2, Math.max(steps, stockSteps));
  const stockBpf = timeBackpropFilter(1, stockSteps);
  registerFastKernels('cpu');
  registerFastKernels('wasm');

  let tfCnn: number | null = null;
  let tfMlp: number | null = null;
  const tfn = loadTfjsNode();
  if (tfn && await tfn.setBackend('tensorflow')) {
    tfCnn = await timeTraining(tfn, buildCnn, [32, 28, 28, 1], 3, steps);
    tfMlp = await timeTraining(tfn, buildMlp, [32, 784], 3, steps);
  }

  return {
    cnn: { stockCpuStepMs: stockCnn, cpuStepMs: cpuCnn, wasmStepMs: wasmCnn, tensorflowStepMs: tfCnn },
    mlp: { stockCpuStepMs: stockMlp, cpuStepMs: cpuMlp, wasmStepMs: wasmMlp, tensorflowStepMs: tfMlp },
    conv2dBackpropFilter: { stockCpuMs: stockBpf, cpuMs: cpuBpf, wasmMs: wasmBpf },
  };
}

if (require.main === module) {
  const steps = process.argv[2] ? Number(process.argv[2]) : undefined;
  if (steps !== undefined && !(Number.isInteger(steps) && steps > 0)) {
    console.error(`test/bench/backends.ts: steps must be a positive integer, got '${process.argv[2]}'`);
    process.exit(2);
  }
  benchBackends({ steps }).then(
    (result) => console.log(JSON.stringify(result, null, 2)),
    (err) => { console.error(err); process.exit(1); },
  );
}
