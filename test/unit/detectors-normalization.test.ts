// Dynamic detectors about normalization and step size: effective learning rate and BatchNorm train/inference drift.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StatName } from '../../src/protocol/run';
import { detectFindings } from '../../src/worker/detectors';
import { MLP, dense, makeInput, only, type Spec } from './detector-input';

test('effective-lr: median update ratio outside [1e-5, 1e-1], explaining norm-fed weights', () => {
  const specs: Spec[] = [
    dense('d1', 'linear'),
    { name: 'bn', className: 'BatchNormalization', isNorm: true, paramCount: 64 },
    dense('d2'),
    dense('out', 'linear', 17),
  ];
  const f = detectFindings(makeInput(specs, 9, (_s, l) => (l === 0 ? { updateRatio: 2e-6 } : l === 2 ? { updateRatio: 0.5 } : {})));
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
  // A few outlier steps do not move the median.
  assert.deepEqual(only(detectFindings(makeInput(specs, 9, (s, l) => (l === 2 && s < 3 ? { updateRatio: 0.5 } : {}))), 'effective-lr'), []);
});

test('bn-train-inference-drift: noisy batch statistics or a gap that does not close; warm-up is not drift', () => {
  const specs: Spec[] = [
    { name: 'conv', className: 'Conv2D', activation: 'relu', paramCount: 448, outputShape: [null, 8, 8, 16] },
    { name: 'bn', className: 'BatchNormalization', isNorm: true, paramCount: 64, outputShape: [null, 8, 8, 16] },
    dense('out', 'linear', 17),
  ];
  const bn = (f: (s: number) => Partial<Record<StatName, number>>) => (s: number, l: number) => (l === 1 ? f(s) : {});
  const drift = (input: ReturnType<typeof makeInput>) => only(detectFindings(input), 'bn-train-inference-drift');
  // Small batches: the variance gap swings wildly; the fix is a batch-independent norm (GroupNorm on feature maps).
  const noisy = drift({
    ...makeInput(
      specs,
      10,
      bn((s) => ({ movingVarGap: s % 2 ? 40 : 3000 })),
    ),
    batchSize: 2,
  });
  assert.deepEqual(
    noisy.map((x) => [x.layer, x.step, x.refactor]),
    [['bn', 9, { action: 'swap', to: 'groupNorm' }]],
  );
  assert.match(noisy[0].message, /jump from step to step \(batch size 2\)/);
  // A gap that grows is not closing.
  const growing = drift(
    makeInput(
      specs,
      10,
      bn((s) => ({ movingMeanGap: 0.6 + 0.05 * s })),
    ),
  );
  assert.deepEqual(
    growing.map((x) => x.layer),
    ['bn'],
  );
  assert.match(growing[0].message, /moving mean is 1 batch σ off/);
  assert.match(growing[0].message, /not closing/);
  assert.equal(growing[0].refactor, undefined);
  // A flat gap over a long run (300 steps sampled every 10): momentum 0.99 would have closed it.
  const long = makeInput(
    specs,
    31,
    bn(() => ({ movingVarGap: 2 })),
  );
  long.samples.forEach((s, i) => {
    s.step = i * 10;
  });
  assert.equal(drift(long).length, 1);
  // The same flat gap over 10 steps is the moving averages warming up, as is a slowly shrinking one.
  assert.deepEqual(
    drift(
      makeInput(
        specs,
        10,
        bn(() => ({ movingVarGap: 2 })),
      ),
    ),
    [],
  );
  assert.deepEqual(
    drift(
      makeInput(
        specs,
        12,
        bn((s) => ({ movingVarGap: 9 * 0.99 ** s })),
      ),
    ),
    [],
  );
  // Below the thresholds nothing is raised however noisy.
  assert.deepEqual(
    drift(
      makeInput(
        specs,
        10,
        bn((s) => ({ movingMeanGap: s % 2 ? 0.01 : 0.4 })),
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
