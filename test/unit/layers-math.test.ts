/** The norm layers against hand-computed values and the identities that define them. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { defineNormLayers, registerNormLayers } from '../../src/layers';

const { GroupNormalization, InstanceNormalization, RMSNormalization, WeightNormalization } = registerNormLayers(tf);

function apply(layer: tf.layers.Layer, x: tf.Tensor): tf.Tensor {
  return layer.apply(x) as tf.Tensor;
}

function assertClose(actual: tf.Tensor | number[], expected: tf.Tensor | number[], tol = 1e-4): void {
  const a = Array.isArray(actual) ? actual : Array.from(actual.dataSync());
  const e = Array.isArray(expected) ? expected : Array.from(expected.dataSync());
  assert.equal(a.length, e.length, 'sizes differ');
  a.forEach((v, i) => assert.ok(Math.abs(v - e[i]) <= tol, `element ${i}: ${v} vs ${e[i]}`));
}

/** Deterministic, non-constant input with per-channel offsets so that groupings matter. */
function sample(shape: number[]): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  const values = Array.from({ length: size }, (_, i) => Math.sin(i * 1.7) * 3 + (i % shape[shape.length - 1]));
  return tf.tensor(values, shape);
}

test('GroupNormalization matches hand-computed values', () => {
  // Groups [1, 2] and [3, 5]: means 1.5 and 4, variances 0.25 and 1, so both become [-1, 1].
  const y = apply(new GroupNormalization({ groups: 2, epsilon: 0 }), tf.tensor2d([[1, 2, 3, 5]]));
  assertClose(y, [-1, 1, -1, 1]);
  // With epsilon the denominator is sqrt(var + eps).
  const yEps = apply(new GroupNormalization({ groups: 2, epsilon: 0.75 }), tf.tensor2d([[1, 2, 3, 5]]));
  assertClose(yEps, [-0.5, 0.5, -1 / Math.sqrt(1.75), 1 / Math.sqrt(1.75)]);
});

test('GroupNormalization applies gamma and beta per channel', () => {
  const layer = new GroupNormalization({
    groups: 1,
    epsilon: 0,
    gammaInitializer: tf.initializers.constant({ value: 2 }),
    betaInitializer: 'ones',
  });
  // One group over [0, 2]: mean 1, variance 1 -> [-1, 1] * 2 + 1.
  assertClose(apply(layer, tf.tensor2d([[0, 2]])), [-1, 3]);
});

test('RMSNormalization matches hand-computed values', () => {
  // mean(x²) = (9 + 16) / 2 = 12.5.
  const rms = Math.sqrt(12.5);
  assertClose(apply(new RMSNormalization({ epsilon: 0 }), tf.tensor2d([[3, 4]])), [3 / rms, 4 / rms]);
  const scaled = new RMSNormalization({ epsilon: 0.5, gammaInitializer: tf.initializers.constant({ value: 3 }) });
  assertClose(apply(scaled, tf.tensor2d([[3, 4]])), [9 / Math.sqrt(13), 12 / Math.sqrt(13)]);
  // No re-centering: a constant row keeps its sign, unlike LayerNorm which would give zeros.
  assertClose(apply(new RMSNormalization({ epsilon: 0 }), tf.tensor2d([[-2, -2, -2]])), [-1, -1, -1]);
});

test('GroupNormalization with 1 group is LayerNormalization over (H, W, C)', () => {
  const x = sample([2, 3, 3, 4]);
  const gn = apply(new GroupNormalization({ groups: 1, epsilon: 1e-3 }), x);
  const ln = apply(tf.layers.layerNormalization({ axis: [1, 2, 3], epsilon: 1e-3 }), x);
  assertClose(gn, ln);
});

test('GroupNormalization with C groups is InstanceNormalization', () => {
  const x = sample([2, 3, 3, 4]);
  const gn = apply(new GroupNormalization({ groups: 4, epsilon: 1e-3 }), x);
  // Instance norm by hand: per sample and channel, over the spatial axes.
  const { mean, variance } = tf.moments(x, [1, 2], true);
  const expected = x.sub(mean).div(variance.add(1e-3).sqrt());
  assertClose(gn, expected);
  assertClose(apply(new InstanceNormalization({ epsilon: 1e-3 }), x), expected);
});

test('GroupNormalization with a channels-first axis equals channels-last on the transposed input', () => {
  const x = sample([2, 3, 3, 6]);
  const last = apply(new GroupNormalization({ groups: 3 }), x);
  const first = apply(new GroupNormalization({ groups: 3, axis: 1 }), x.transpose([0, 3, 1, 2]));
  assertClose(first.transpose([0, 2, 3, 1]), last);
});

test('GroupNormalization picks the largest divisor of the channels up to 32 when groups is not given', () => {
  for (const [channels, groups] of [
    [12, 12],
    [48, 24],
    [64, 32],
    [7, 7],
    [96, 32],
  ]) {
    const layer = new GroupNormalization();
    apply(layer, tf.zeros([1, channels]));
    assert.equal(layer.getConfig().groups, groups, `${channels} channels`);
  }
});

test('GroupNormalization names the layer and the channel count when groups do not divide them', () => {
  const layer = new GroupNormalization({ groups: 3, name: 'gn_bad' });
  assert.throws(() => apply(layer, tf.zeros([1, 4])), /'gn_bad': 4 channels cannot be split into 3 equal groups/);
  assert.throws(() => new GroupNormalization({ groups: 0 }), /groups must be a positive integer/);
  assert.throws(() => new GroupNormalization({ gammaInitializer: 'nope' }), /Unknown initializer 'nope'/);
});

test('gradients through every layer are finite, also for constant (zero-variance) input', () => {
  const make = () => [
    new GroupNormalization({ groups: 2 }),
    new InstanceNormalization(),
    new RMSNormalization(),
    new WeightNormalization({ layer: tf.layers.dense({ units: 4 }) }),
  ];
  for (const input of [sample([3, 4]), tf.ones([3, 4])]) {
    for (const layer of make()) {
      const model = tf.sequential({ layers: [tf.layers.dense({ units: 4, inputShape: [4] }), layer, tf.layers.dense({ units: 1 })] });
      const { value, grads } = tf.variableGrads(() => (model.predict(input) as tf.Tensor).square().mean() as tf.Scalar);
      assert.ok(Number.isFinite(value.dataSync()[0]), `${layer.getClassName()} loss`);
      const names = Object.keys(grads);
      assert.ok(
        names.some((n) => n.includes('gamma') || n.endsWith('/g')),
        `${layer.getClassName()} has a gradient for its own weights: ${names}`,
      );
      for (const [name, g] of Object.entries(grads)) {
        assert.ok(Array.from(g.dataSync()).every(Number.isFinite), `${layer.getClassName()} gradient of ${name}`);
      }
      model.dispose();
    }
  }
});

test('WeightNormalization starts equal to the wrapped layer and keeps each unit at length g', () => {
  const x = sample([5, 3]);
  const dense = tf.layers.dense({ units: 2, useBias: false });
  const plain = apply(dense, x);
  const wrapped = new WeightNormalization({ layer: dense });
  assertClose(apply(wrapped, x), plain);
  // With g = 1 the effective kernel is v/‖v‖ column by column.
  const [kernel, g] = wrapped.getWeights();
  assert.deepEqual(g.shape, [2]);
  wrapped.setWeights([kernel, tf.ones([2])]);
  const unit = kernel.div(kernel.norm('euclidean', 0, true));
  assertClose(apply(wrapped, x), x.matMul(unit));
});

test('WeightNormalization wraps Conv2D with one g per filter and rejects layers without a kernel', () => {
  const conv = tf.layers.conv2d({ filters: 3, kernelSize: 2, padding: 'same', activation: 'relu' });
  const x = sample([1, 4, 4, 2]);
  const plain = apply(conv, x);
  const wrapped = new WeightNormalization({ layer: conv });
  assertClose(apply(wrapped, x), plain);
  assert.deepEqual(
    wrapped.getWeights().map((w) => w.shape),
    [[2, 2, 2, 3], [3], [3]],
  );
  assert.throws(() => new WeightNormalization({ layer: tf.layers.flatten({ name: 'flat' }) }), /not Flatten 'flat'/);
});

test("the layers work with a tf whose Layer is a subclass, as under NormScope's tf shim", () => {
  const shimTf = { ...tf, layers: { ...tf.layers, Layer: class RecordingLayer extends tf.layers.Layer {} } } as typeof tf;
  const shimmed = defineNormLayers(shimTf);
  const wrapped = new shimmed.WeightNormalization({ layer: tf.layers.dense({ units: 2 }) });
  assert.deepEqual(apply(wrapped, tf.ones([3, 4])).shape, [3, 2]);
  assert.ok(new shimmed.GroupNormalization() instanceof shimTf.layers.Layer);
  // Registering again (another tf instance, or a second load of norm-layers.js) replaces, not fails.
  registerNormLayers(tf);
});

test('a model with every norm layer trains: loss stays finite and the norm weights move', async () => {
  const model = tf.sequential({
    layers: [
      new WeightNormalization({ layer: tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', inputShape: [6, 6, 2] }) }),
      new GroupNormalization({ groups: 2 }),
      tf.layers.reLU(),
      new InstanceNormalization(),
      tf.layers.flatten(),
      tf.layers.dense({ units: 8 }),
      new RMSNormalization(),
      tf.layers.dense({ units: 1 }),
    ],
  });
  model.compile({ optimizer: tf.train.adam(0.01), loss: 'meanSquaredError' });
  const before = model.getWeights().map((w) => w.clone());
  const history = await model.fit(sample([8, 6, 6, 2]), sample([8, 1]), { epochs: 5, batchSize: 4, verbose: 0 });
  const losses = history.history.loss as number[];
  assert.ok(losses.every(Number.isFinite), `losses ${losses}`);
  const after = model.getWeights();
  const moved = model.weights.filter((w, i) => /gamma|beta|\/g$/.test(w.name) && tf.any(tf.notEqual(before[i], after[i])).dataSync()[0]);
  assert.ok(moved.length >= 4, `norm weights that changed: ${moved.map((w) => w.name)}`);
});
