// Dynamic detectors about normalization and step size: effective learning rate and BatchNorm train/inference drift.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StatName } from '../../src/protocol/run';
import { detectFindings } from '../../src/diagnosis/detectors';
import { MLP, dense, makeInput, only, type Spec } from './detector-input';

test('effective-lr: median update ratio outside [1e-5, 1e-1], explaining norm-fed weights', () => {
  const specs: Spec[] = [
    dense('d1', 'linear'),
    { name: 'bn', className: 'BatchNormalization', isNorm: true, paramCount: 64 },
    dense('d2'),
    dense('out', 'linear', 17),
  ];
  const input = makeInput(specs, 9, (_s, l) => (l === 0 ? { updateRatio: 2e-6 } : l === 2 ? { updateRatio: 0.5 } : {}));
  const falling = [...input.loss];
  input.loss.forEach((_, s) => (input.loss[s] = 1 + 0.3 * (s % 2))); // the loss swings and does not fall: overshooting
  const f = detectFindings(input);
  const lr = only(f, 'effective-lr');
  assert.deepEqual(
    lr.map((x) => [x.layer, x.severity]),
    [
      ['d2', 'warning'],
      ['d1', 'info'],
    ],
  );
  const d1 = lr.find((x) => x.layer === 'd1')!;
  assert.match(d1.message, /feeds a normalization layer/);
  assert.match(d1.message, /effective learning rate/);
  assert.doesNotMatch(lr.find((x) => x.layer === 'd2')!.message, /feeds a normalization/);
  // The same large steps while the loss falls are making progress (the first steps of healthy training are large).
  input.loss.splice(0, input.loss.length, ...falling);
  assert.deepEqual(
    only(detectFindings(input), 'effective-lr').map((x) => [x.layer, x.severity]),
    [['d1', 'info']],
  );
  // A few outlier steps do not move the median.
  assert.deepEqual(only(detectFindings(makeInput(specs, 9, (s, l) => (l === 2 && s < 3 ? { updateRatio: 0.5 } : {}))), 'effective-lr'), []);
});

test('bn-train-inference-drift: small batches, averages that lag once warm, several batches a step (info)', () => {
  const specs: Spec[] = [
    { name: 'conv', className: 'Conv2D', activation: 'relu', paramCount: 448, outputShape: [null, 8, 8, 16] },
    { name: 'bn', className: 'BatchNormalization', isNorm: true, paramCount: 64, outputShape: [null, 8, 8, 16], movingAverageWeight: 0.1 },
    dense('out', 'linear', 17),
  ];
  const bn = (f: (s: number) => Partial<Record<StatName, number>>) => (s: number, l: number) => (l === 1 ? f(s) : {});
  const drift = (input: ReturnType<typeof makeInput>) => only(detectFindings(input), 'bn-train-inference-drift');
  // One update of the moving averages per step, as a model run once per training step has.
  const once = (gaps: (s: number) => Partial<Record<StatName, number>>) => bn((s) => ({ movingUpdates: s + 1, ...gaps(s) }));
  // Small batches: the fix is a batch-independent norm (GroupNorm on feature maps), and the message says the batch.
  const noisy = drift({
    ...makeInput(
      specs,
      10,
      once((s) => ({ movingVarGap: s % 2 ? 4 : 30 })),
    ),
    batchSize: 2,
  });
  assert.deepEqual(
    noisy.map((x) => [x.layer, x.step, x.severity, x.refactor]),
    [['bn', 9, 'warning', { action: 'swap', to: 'groupNorm' }]],
  );
  assert.match(noisy[0].message, /each batch has 2 examples: its statistics jump from step to step/);
  assert.match(noisy[0].fix!, /batches of 16 or more/);
  // At batch 32 a gap that lasts the last 3 / 0.1 = 30 steps with the averages warm (0.9^30 = 4 % of their start
  // left) is lag, and the advice fits: not "batches of 16 or more" when the batch is 32, and no swap.
  const lagging = drift(
    makeInput(
      specs,
      60,
      once((s) => ({ movingMeanGap: 0.6 + 0.01 * s })),
    ),
  );
  assert.deepEqual(
    lagging.map((x) => [x.layer, x.severity]),
    [['bn', 'warning']],
  );
  assert.match(lagging[0].message, /moving mean is 1.18 batch σ off/);
  assert.match(lagging[0].message, /lag behind: for the last 30 steps.*each new batch weighs 0.1/);
  assert.doesNotMatch(lagging[0].fix!, /batches of 16/);
  assert.equal(lagging[0].refactor, undefined);
  // Early training's transient is not lag: a gap that rose for 25 steps and fell again (VGG11's last BatchNorm).
  assert.deepEqual(
    drift(
      makeInput(
        specs,
        60,
        once((s) => ({ movingVarGap: s >= 20 && s < 45 ? 0.8 : 0.1 })),
      ),
    ),
    [],
  );
  assert.deepEqual(
    drift(
      makeInput(
        specs,
        50,
        once((s) => ({ movingVarGap: s >= 25 ? 0.8 : 0.1 })),
      ),
    ),
    [],
    '25 steps of a gap are not yet 3 time constants (30 steps)',
  );
  // The same gap while the averages are still warming up (tfjs's weight 0.01: 0.99^60 = 55 % of the initial values
  // left; PyTorch's 0.1 after 10 steps: 35 %) is not judged as lag: the averages hold the run's first batches.
  const tfjsSpecs = specs.map((s) => (s.name === 'bn' ? { ...s, movingAverageWeight: 0.01 } : s));
  assert.deepEqual(
    drift(
      makeInput(
        tfjsSpecs,
        60,
        once((s) => ({ movingMeanGap: 0.6 + 0.01 * s })),
      ),
    ),
    [],
  );
  assert.deepEqual(
    drift(
      makeInput(
        specs,
        10,
        once(() => ({ movingVarGap: 2 })),
      ),
    ),
    [],
  );
  // Two updates a step (a GAN discriminator on real and generated images): the averages mix them by design. Said
  // as information, with what to do if the network is used for inference.
  const twice = drift(
    makeInput(
      specs,
      60,
      bn((s) => ({ movingUpdates: 2 * (s + 1), movingMeanGap: 1.1 })),
    ),
  );
  assert.deepEqual(
    twice.map((x) => [x.layer, x.severity]),
    [['bn', 'info']],
  );
  assert.match(twice[0].message, /normalizes 2 batches per step/);
  // Below the thresholds nothing is raised however noisy.
  assert.deepEqual(
    drift(
      makeInput(
        specs,
        10,
        once((s) => ({ movingMeanGap: s % 2 ? 0.01 : 0.4 })),
      ),
    ),
    [],
  );
});

test('effective-lr: too-small steps share a cause and are reported once', () => {
  const f = only(detectFindings(makeInput(MLP, 6, () => ({ updateRatio: 1e-8 }))), 'effective-lr');
  assert.equal(f.length, 1);
  assert.equal(f[0].layer, 'd1');
  assert.match(f[0].message, /3 more layer\(s\) update as little/);
  assert.match(f[0].message, /lr = 0.001/);
});
