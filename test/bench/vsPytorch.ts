/**
 * The bench CNN and MLP on wasm (NormScope's kernels) against the same models in PyTorch on one thread
 * (test/bench/torch_steps.py, kept running), in alternating rounds of one run: on a shared machine both sides
 * see the same load, so the ratio holds even when the absolute times do not. Skipped where no Python
 * with torch is found (src/runner/pythonInterpreter).
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { resolvePython } from '../../src/runner/pythonInterpreter';
import { errorMessage } from '../../src/protocol';
import { median } from '../../src/diagnosis/report';
import { registerFastKernels } from '../../src/worker/kernels/index';
import { buildCnn, buildMlp } from './models';

export interface Comparison {
  /** Medians over all steps (wall time). */
  wasmStepMs: number;
  pytorchStepMs: number;
  /**
   * wasm ÷ PyTorch: the median over rounds of one round's ratio (its wasm steps against the PyTorch steps
   * right next to them), which a burst of load on a shared machine moves less than the ratio of the overall medians.
   */
  ratio: number;
  /** First and third quartile of the rounds' ratios: how much the load moved them. */
  roundRatioQuartiles: [number, number];
  /** The ratio of the overall medians, wall and process CPU time (CPU time counts V8's helper threads too). */
  ratioOfMedians: number;
  cpuRatioOfMedians: number;
}
export interface VsPytorch {
  torch: string;
  threads: number;
  rounds: number;
  stepsPerRound: number;
  cnn: Comparison;
  mlp: Comparison;
}

const SCRIPT = [path.resolve(__dirname, '../../../test/bench/torch_steps.py'), path.resolve('test/bench/torch_steps.py')].find((p) =>
  fs.existsSync(p),
);

interface Times {
  wallMs: number[];
  cpuMs: number[];
}

async function timeTfjs(step: () => Promise<unknown>, count: number): Promise<Times> {
  const out: Times = { wallMs: [], cpuMs: [] };
  for (let i = 0; i < count; i++) {
    const cpu = process.cpuUsage();
    const start = performance.now();
    await step();
    out.wallMs.push(performance.now() - start);
    const used = process.cpuUsage(cpu);
    out.cpuMs.push((used.user + used.system) / 1000);
  }
  return out;
}

export async function benchVsPytorch(rounds = 30, stepsPerRound = 3): Promise<VsPytorch | { skipped: string }> {
  let python;
  try {
    python = await resolvePython({});
  } catch (e) {
    return { skipped: errorMessage(e) };
  }
  if (!SCRIPT) return { skipped: 'test/bench/torch_steps.py not found' };
  const child = spawn(python.path, [SCRIPT], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = readline.createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const nextLine = async () => {
    const { value, done } = await lines.next();
    if (done) throw new Error(`${SCRIPT} exited early (code ${child.exitCode})`);
    return JSON.parse(value as string) as Record<string, unknown>;
  };
  try {
    const ready = (await nextLine()) as { torch: string; threads: number };
    await tf.setBackend('wasm');
    registerFastKernels('wasm');
    const problems = { cnn: { build: buildCnn, xShape: [32, 28, 28, 1] }, mlp: { build: buildMlp, xShape: [32, 784] } };
    const result = { torch: ready.torch, threads: ready.threads, rounds, stepsPerRound } as VsPytorch;
    for (const [name, p] of Object.entries(problems) as [keyof typeof problems, (typeof problems)['cnn']][]) {
      const model = p.build(tf);
      model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });
      const x = tf.randomNormal(p.xShape, 0, 1, 'float32', 1);
      const y = tf.oneHot(tf.randomUniform([32], 0, 10, 'int32', 2) as tf.Tensor1D, 10);
      const step = () => model.trainOnBatch(x, y);
      await timeTfjs(step, 10); // V8 optimises the JS kernels over the first steps
      const wasm: Times[] = [];
      const torch: Times[] = [];
      for (let r = 0; r < rounds; r++) {
        // ABBA order, so that neither side always runs right after the other.
        const runTorch = async () => {
          child.stdin.write(`${name} ${stepsPerRound}\n`);
          torch.push((await nextLine()) as unknown as Times);
        };
        if (r % 2) await runTorch();
        wasm.push(await timeTfjs(step, stepsPerRound));
        if (!(r % 2)) await runTorch();
      }
      const all = (ts: Times[], key: keyof Times) => median(ts.flatMap((t) => t[key]));
      const perRound = wasm.map((w, r) => median(w.wallMs) / median(torch[r].wallMs)).sort((p, q) => p - q);
      const quartile = (q: number) => perRound[Math.round(q * (perRound.length - 1))];
      result[name] = {
        wasmStepMs: all(wasm, 'wallMs'),
        pytorchStepMs: all(torch, 'wallMs'),
        ratio: median(perRound),
        roundRatioQuartiles: [quartile(0.25), quartile(0.75)],
        ratioOfMedians: all(wasm, 'wallMs') / all(torch, 'wallMs'),
        cpuRatioOfMedians: all(wasm, 'cpuMs') / all(torch, 'cpuMs'),
      };
      tf.dispose([x, y]);
      model.dispose();
    }
    return result;
  } finally {
    child.stdin.end();
    child.kill();
  }
}

if (require.main === module) {
  setWasmPaths(path.join(process.cwd(), 'node_modules/@tensorflow/tfjs-backend-wasm/dist/'));
  benchVsPytorch(Number(process.argv[2] ?? 30)).then(
    (r) => console.log(JSON.stringify(r, null, 2)),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
