// Every statistic on a tensor computed by hand, through both meters (host scan and device ops).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import '../../src/worker/backend';
import { DeviceMeter, HostMeter, viewFor, type Meter } from '../../src/worker/instrument/meters';
import * as derived from '../../src/worker/stats/derived';
import { assertClose } from './close';

const close = assertClose;

const meters: [string, () => Meter][] = [
  ['host', () => new HostMeter(viewFor('cpu')!)],
  ['device', () => new DeviceMeter()],
];

for (const [kind, makeMeter] of meters) {
  test(`${kind} meter: activation statistics of [[1, 0, -2], [3, 0, -2]]`, async () => {
    await tf.setBackend('cpu');
    const x = tf.tensor2d([
      [1, 0, -2],
      [3, 0, -2],
    ]);
    const meter = makeMeter();
    const a = meter.activation(x, true, null);
    meter.finish();
    close(a.mean(), 0, 'mean = (1+0-2+3+0-2)/6');
    close(a.variance(), 3, 'variance = (1+0+4+9+0+4)/6');
    close(derived.std(a.variance()), Math.sqrt(3), 'std');
    assert.equal(a.min(), -2);
    assert.equal(a.max(), 3);
    close(derived.fraction(a.zeros(), 6), 1 / 3, 'zeroFraction: two exact zeros of six');
    close(derived.deadFraction(a.deadUnits(), 3), 2 / 3, 'deadFraction: columns 2 (max 0) and 3 (max -2) never > 0');
    assert.equal(derived.nonFinite(a.finite(), 6), 0);
    x.dispose();
  });

  test(`${kind} meter: nonFinite counts NaN, +Inf and -Inf`, () => {
    const x = tf.tensor1d([1, NaN, Infinity, -Infinity, 0]);
    const meter = makeMeter();
    const a = meter.activation(x, false, null);
    meter.finish();
    assert.equal(derived.nonFinite(a.finite(), 5), 3);
    assert.ok(Number.isNaN(a.mean()), 'a NaN makes the mean NaN');
    x.dispose();
  });

  test(`${kind} meter: saturation of tanh and sigmoid outputs (|pre-activation| ≥ 5)`, () => {
    // tanh(5) = 0.9999092: 0.99995 and -0.99991 are beyond it, 0.9999 is not.
    const tanhOut = tf.tensor1d([0.99995, -0.5, 0.9999, -0.99991, 0.2]);
    // sigmoid(5) − ½ = 0.4933: 0.999 and 0.003 are that far from ½, 0.5 and 0.6 are not.
    const sigmoidOut = tf.tensor1d([0.999, 0.5, 0.003, 0.6]);
    const meter = makeMeter();
    const t = meter.activation(tanhOut, false, 'tanh');
    const s = meter.activation(sigmoidOut, false, 'sigmoid');
    meter.finish();
    close(derived.fraction(t.saturated(), 5), 0.4, 'tanh saturatedFraction');
    close(derived.fraction(s.saturated(), 4), 0.5, 'sigmoid saturatedFraction');
    tf.dispose([tanhOut, sigmoidOut]);
  });

  test(`${kind} meter: weight, gradient and update norms`, () => {
    const before = tf.tensor1d([3, 4]);
    const after = tf.tensor1d([3, 4.5]);
    const grad = tf.tensor1d([6, 8]);
    const meter = makeMeter();
    const w = meter.squaredNorm(before);
    const g = meter.squaredNorm(grad);
    const u = meter.squaredDistance(after, meter.snapshot(before));
    meter.finish();
    close(derived.l2(w()), 5, 'weightNorm = ‖[3, 4]‖');
    close(derived.l2(g()), 10, 'gradNorm = ‖[6, 8]‖');
    close(derived.l2(u()), 0.5, 'updateNorm = ‖[0, 0.5]‖');
    close(derived.updateRatio(derived.l2(u()), derived.l2(w())), 0.1, 'updateRatio = 0.5 / 5');
    tf.dispose([before, after, grad]);
  });

  test(`${kind} meter: gamma and beta statistics`, () => {
    const gamma = tf.tensor1d([0.5, 1.5, 1, 1]);
    const beta = tf.tensor1d([1, -3]);
    const meter = makeMeter();
    const g = meter.vector(gamma);
    const b = meter.vector(beta);
    meter.finish();
    close(g.mean(), 1, 'gammaMean');
    close(derived.std(g.variance()), Math.sqrt(0.125), 'gammaStd = √((0.25+0.25+0+0)/4)');
    assert.equal(g.min(), 0.5);
    assert.equal(g.max(), 1.5);
    close(b.mean(), -1, 'betaMean');
    tf.dispose([gamma, beta]);
  });

  /**
   * Runs the gap measurement around a simulated BatchNorm forward that updates its moving stats. By default the
   * moving averages are long past their warm-up (a million updates: nothing of their initial values is left).
   */
  function gapsAround(
    input: tf.Tensor,
    axis: number,
    momentum: number,
    before: [number[], number[]],
    after: [number[], number[]],
    updates = 1e6,
  ) {
    let state = before.map((v) => tf.tensor1d(v));
    const updated = after.map((v) => tf.tensor1d(v));
    const channels = before[0].length;
    const initial = { mean: new Float32Array(channels), variance: new Float32Array(channels).fill(1) };
    const bn = {
      axis,
      momentum,
      epsilon: 1e-5,
      movingMean: { read: () => state[0] },
      movingVariance: { read: () => state[1] },
      initial,
      updates,
    };
    const meter = makeMeter();
    const pending = meter.batchNormGaps(input, bn);
    const kept = state;
    state = updated; // the layer ran: tfjs wrote the new moving averages
    const gaps = pending.after();
    meter.finish();
    tf.dispose([...kept, ...updated, input]);
    return { meanGap: gaps.meanGap(), varGap: gaps.varGap() };
  }

  // Channel 0: batch mean 2, variance 1; channel 1: batch mean 12, variance 4. Moving mean [0, 12],
  // moving variance [1, 2]: movingMeanGap = mean(|μ̂−μ|/σ) = (2/1 + 0/2)/2, movingVarGap = mean(|σ̂²−σ²|/σ²) = (0/1 + 2/4)/2.
  // m' = m − (m − b)·(1 − momentum): at 0.9 mean [0.2, 12], variance [1, 2.2] (the gaps come from that update); at 0.999
  // the update is too small to invert, so the meter scans the batch itself.
  const cases: { momentum: number; how: string; updated: [number[], number[]] }[] = [
    {
      momentum: 0.9,
      how: 'derived from the moving-average update',
      updated: [
        [0.2, 12],
        [1, 2.2],
      ],
    },
    {
      momentum: 0.999,
      how: 'scanned from the input',
      updated: [
        [0.002, 12],
        [1, 2.002],
      ],
    },
  ];
  for (const { momentum, how, updated } of cases) {
    test(`${kind} meter: BatchNorm gaps, ${how} (momentum ${momentum})`, () => {
      const batch = tf.tensor2d([
        [1, 10],
        [3, 14],
      ]);
      const moving: [number[], number[]] = [
        [0, 12],
        [1, 2],
      ];
      const gaps = gapsAround(batch, -1, momentum, moving, updated);
      close(gaps.meanGap, 1, 'movingMeanGap', 1e-4);
      close(gaps.varGap, 0.25, 'movingVarGap', 1e-4);
    });
  }

  // Two updates in, the moving averages still hold 0.9² = 0.81 (momentum 0.999: 0.998) of their initial 0 and 1;
  // the rest is exactly this batch's statistics (channel means [2, 12], variances [1, 4]). Without the warm-up the
  // gap is 0 — with it, the mean gap would be (|0.38 − 2|/1 + |2.28 − 12|/2)/2 = 3.24.
  test(`${kind} meter: BatchNorm gaps are taken without the moving averages' warm-up, and need one update`, () => {
    const batch = [
      [2, 12],
      [1, 4],
    ];
    const input = () =>
      tf.tensor2d([
        [1, 10],
        [3, 14],
      ]);
    const mixed = (keep: number): [number[], number[]] => [batch[0].map((b) => (1 - keep) * b), batch[1].map((b) => keep + (1 - keep) * b)];
    const updatedBy = (before: [number[], number[]], momentum: number): [number[], number[]] => [
      before[0].map((v, c) => v - (v - batch[0][c]) * (1 - momentum)),
      before[1].map((v, c) => v - (v - batch[1][c]) * (1 - momentum)),
    ];
    for (const momentum of [0.9, 0.999]) {
      const before = mixed(momentum ** 2);
      const gaps = gapsAround(input(), -1, momentum, before, updatedBy(before, momentum), 2);
      close(gaps.meanGap, 0, `movingMeanGap at momentum ${momentum}`, 1e-3);
      close(gaps.varGap, 0, `movingVarGap at momentum ${momentum}`, 1e-3);
    }
    const fresh = mixed(1);
    const first = gapsAround(input(), -1, 0.9, fresh, updatedBy(fresh, 0.9), 0);
    assert.ok(Number.isNaN(first.meanGap) && Number.isNaN(first.varGap), 'before its first update the average holds no batch');
  });

  test(`${kind} meter: BatchNorm gaps on the channel axis of NCHW-like input (axis 1)`, () => {
    // shape [1, 2, 2]: channel 0 = [1, 3] (mean 2, var 1), channel 1 = [10, 14] (mean 12, var 4).
    const gaps = gapsAround(
      tf.tensor3d([
        [
          [1, 3],
          [10, 14],
        ],
      ]),
      1,
      0.999,
      [
        [2, 10],
        [1, 4],
      ],
      [
        [2, 10.002],
        [1, 4],
      ],
    );
    close(gaps.meanGap, (0 + 2 / 2) / 2, 'movingMeanGap', 1e-4);
    close(gaps.varGap, 0, 'movingVarGap', 1e-4);
  });
}

test('gain = std(output) / std(input), pooled over several inputs', () => {
  assert.equal(derived.gain(2, 4), 0.5);
  assert.ok(Number.isNaN(derived.gain(1, 0)), 'no input spread: gain undefined');
  // Inputs {1, 1} and {3, 3} together: mean 2, variance 1.
  close(
    derived.pooledStd([
      { size: 2, mean: 1, variance: 0 },
      { size: 2, mean: 3, variance: 0 },
    ]),
    1,
    'pooled std',
  );
});

test('the meters leave no tensors behind', () => {
  const x = tf.tensor2d([
    [1, 2],
    [3, 4],
  ]);
  const total = tf.sum(x);
  const before = tf.memory().numTensors;
  for (const [, make] of meters) {
    const m = make();
    m.activation(x, true, 'tanh');
    m.squaredDistance(x, m.snapshot(x));
    m.moments(x);
    m.scalar(total);
    m.finish();
  }
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([x, total]);
});

test('host and device meters agree on a random tensor', () => {
  const x = tf.randomNormal([64, 16], 0.3, 2, 'float32', 5);
  const results = meters.map(([, make]) => {
    const m = make();
    const a = m.activation(x, true, 'tanh');
    m.finish();
    return [a.mean(), a.variance(), a.min(), a.max(), a.zeros(), a.finite(), a.deadUnits(), a.saturated()];
  });
  results[0].forEach((v, i) => close(v, results[1][i], `statistic ${i}`, 1e-4 * Math.max(1, Math.abs(v))));
  x.dispose();
});
