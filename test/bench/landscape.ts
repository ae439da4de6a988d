/**
 * Cost of the loss-landscape instrument (issue 13, docs/landscape.md): on the MLP with BN and LN
 * (examples/), blocks of 10 training steps, plain against the same 10 steps with one landscape probe at 4 step
 * sizes (the instrument at every=10), with and without ICS, alternating ABBA so that load drift hits all alike;
 * medians of the process CPU time per block. `off`: a run with the instrument off against plain training
 * (NormScope's per-step measuring, steady state, as ./overhead measures it).
 */
import * as path from 'node:path';
import { LandscapeInstrument, landscapeFor } from '../../src/worker/landscape/instrument';
import { plainStep, totalLoss, type StepContext } from '../../src/worker/instrument/step';
import { learningRateOf } from '../../src/worker/training/spec';
import { median } from '../../src/diagnosis/report';
import { benchContext, EXAMPLES, measureModel, round } from './overhead';
import type { Batch } from '../../src/worker/training/synthetic';

const PERIOD = 10;
const BLOCKS = 12;
const WARMUP_BLOCKS = 2;

function block(ctx: StepContext, batch: Batch, probe: LandscapeInstrument | null): number {
  const cpu = process.cpuUsage();
  for (let i = 0; i < PERIOD; i++) {
    if (i === 0) probe?.before(i, () => totalLoss(ctx, batch));
    plainStep(ctx, batch);
    if (i === 0) probe?.after(() => totalLoss(ctx, batch));
  }
  const used = process.cpuUsage(cpu);
  return (used.user + used.system) / 1000;
}

export interface LandscapeBench {
  blockMs: { plain: number; landscape: number; landscapeIcs: number };
  on: number;
  onWithIcs: number;
  off: number;
}

export async function benchLandscape(file = path.join(EXAMPLES, 'mlp-bn-ln.js')): Promise<LandscapeBench> {
  const { ctx, batch, dispose } = await benchContext(file, 'auto');
  const lr = learningRateOf(ctx.trainable.optimizer);
  const probe = landscapeFor({ every: PERIOD, ics: false }, ctx, lr);
  const probeIcs = landscapeFor({ every: PERIOD, ics: true }, ctx, lr);
  const times: Record<'plain' | 'landscape' | 'landscapeIcs', number[]> = { plain: [], landscape: [], landscapeIcs: [] };
  try {
    for (let b = 0; b < WARMUP_BLOCKS; b++) {
      block(ctx, batch, null);
      block(ctx, batch, probe);
      block(ctx, batch, probeIcs);
    }
    const order = [
      ['plain', 'landscape', 'landscapeIcs'],
      ['landscapeIcs', 'landscape', 'plain'],
    ] as const;
    for (let b = 0; b < BLOCKS; b++) {
      for (const kind of order[b % 2])
        times[kind].push(block(ctx, batch, kind === 'plain' ? null : kind === 'landscape' ? probe : probeIcs));
    }
  } finally {
    probe.dispose();
    probeIcs.dispose();
    dispose();
  }
  const [plain, landscape, landscapeIcs] = [times.plain, times.landscape, times.landscapeIcs].map(median);
  // With the instrument off the engine only tests `landscape?.due(step)` on a null; what a run then costs over
  // plain training is NormScope's per-step measuring, measured as in ./overhead (steady state, ABBA blocks).
  // Measured as ./overhead does: a warm-up run first (V8 compiles the measuring path), then as many blocks.
  await measureModel(file, 'auto', 4);
  const off = (await measureModel(file)).ratio;
  return {
    blockMs: { plain: round(plain), landscape: round(landscape), landscapeIcs: round(landscapeIcs) },
    on: round(landscape / plain),
    onWithIcs: round(landscapeIcs / plain),
    off: round(off),
  };
}

if (/[\\/]landscape\.js$/.test(process.argv[1] ?? '')) {
  benchLandscape().then(
    (result) => process.stdout.write(`${JSON.stringify(result)}\n`),
    (e) => {
      process.stderr.write(`bench failed: ${(e as Error).stack ?? e}\n`);
      process.exitCode = 1;
    },
  );
}
