// The landscape formulas (src/worker/landscape/formulas.ts) and the tf probe (./probe.ts), checked by hand on
// 2-parameter quadratics L(w) = ½ wᵀAw with A = diag(1, 4), whose smoothness constant is exactly λmax(A) = 4,
// and ICS on L(w₁, w₂) = ½(w₁w₂ − 1)² with each weight its own "layer".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { cosine, gradientChange, internalCovariateShift, lossBand, smoothness, summarize } from '../../src/worker/landscape/formulas';
import { measureIcs, probeLandscape, Snapshot } from '../../src/worker/landscape/probe';
import { landscapeFindings } from '../../src/worker/landscape/findings';
import type { LayerInfo } from '../../src/protocol';
import { assertClose } from './close';

const close = (a: number | null, b: number, what: string) => assertClose(a, b, what, 1e-5);

test('formulas by hand: w = (1, 1), ∇L = Aw = (1, 4), η = 0.1, s = 1', () => {
  // w′ = w − 0.1·(1, 4) = (0.9, 0.6); ∇L(w′) = (0.9, 2.4); Δ∇L = (0.1, 1.6); Δw = (0.1, 0.4).
  const change = gradientChange([[1, 4]], [[0.9, 2.4]]);
  close(change, Math.sqrt(2.57), '‖Δ∇L‖ = √(0.01 + 2.56)');
  close(smoothness(change, 1, 0.1, Math.sqrt(17)), Math.sqrt(257 / 17), '‖Δ∇L‖/‖Δw‖ = ‖A²w‖/‖Aw‖ = √257/√17 ≈ 3.888 ≤ 4');
  close(cosine([[1, 0]], [[1, 1]]), Math.SQRT1_2, 'cos 45°');
  const ics = internalCovariateShift([[3, 4]], [[0, 5]]);
  close(ics.distance, Math.sqrt(10), '‖(3, 4) − (0, 5)‖');
  close(ics.cosine, 20 / 25, '⟨(3,4),(0,5)⟩ / 25');
  assert.deepEqual(lossBand([2, null, 0.5, Infinity]), { min: 0.5, max: 2 });
  assert.ok(Number.isNaN(smoothness(1, 1, 0.1, 0)), 'no move, no smoothness');
});

function quadratic(w: tf.Variable): () => tf.Scalar {
  const a = tf.tensor1d([1, 4]);
  return () => tf.tidy(() => tf.mul(0.5, tf.sum(tf.mul(a, tf.square(w)))) as tf.Scalar);
}

test('probe on the quadratic along the top eigenvector: β-smoothness is exactly λmax = 4', () => {
  const w = tf.variable(tf.tensor1d([0, 1]), true, 'w_eigen');
  try {
    // ∇L = (0, 4). At s: w′ = (0, 1 − 0.4s), L = 2(1 − 0.4s)², ‖Δ∇L‖ = 4·0.4s·... = 1.6s, ‖Δw‖ = 0.4s.
    const { sample } = probeLandscape({ loss: quadratic(w), variables: [w], state: [w] }, 7, 0.1, [0.25, 1, 2, 4]);
    assert.equal(sample.step, 7);
    close(sample.loss, 2, 'L(w) = ½·4·1');
    close(sample.gradNorm, 4, '‖∇L‖');
    [0.25, 1, 2, 4].forEach((s, i) => {
      close(sample.losses[i], 2 * (1 - 0.4 * s) ** 2, `L at s = ${s}`);
      close(sample.gradChange[i], 1.6 * s, `‖Δ∇L‖ at s = ${s}`);
      close(sample.smoothness[i], 4, `β at s = ${s}`);
    });
    // Losses 1.62, 0.72, 0.08, 0.72: band [0.08, 1.62].
    const summary = summarize([sample]);
    close(summary.lossSpan, 1.54, 'max − min');
    close(summary.relativeLossSpan, 0.77, '÷ L(w) = 2');
    close(summary.gradChange, 6.4, 'largest ‖Δ∇L‖ (s = 4)');
    close(summary.smoothness, 4, 'β_eff');
    assert.deepEqual(Array.from(w.dataSync()), [0, 1], 'weights restored');
  } finally {
    w.dispose();
  }
});

test('probe off the eigenvectors: w = (1, 1) gives β = √257/√17 < 4, and the weights come back bit for bit', () => {
  const start = new Float32Array([1.1, 0.7]);
  const w = tf.variable(tf.tensor1d([1, 1]), true, 'w_mixed');
  const other = tf.variable(tf.tensor1d(start), false, 'state_untouched');
  try {
    const before = w.dataSync().slice();
    const { sample, gradient } = probeLandscape({ loss: quadratic(w), variables: [w], state: [w, other] }, 0, 0.1, [1]);
    assert.deepEqual(Array.from(gradient[0]), [1, 4]);
    close(sample.losses[0], 1.125, 'L(0.9, 0.6) = ½(0.81 + 4·0.36)');
    close(sample.smoothness[0], Math.sqrt(257 / 17), 'β');
    assert.deepEqual(w.dataSync(), before);
    assert.deepEqual(other.dataSync(), start);
  } finally {
    w.dispose();
    other.dispose();
  }
});

test('ICS by hand on ½(w₁w₂ − 1)² at (2, 1), SGD 0.1: layer 1 has none, layer 2 ‖G − G′‖ = 0.29', () => {
  // G = (r·w₂, r·w₁) with r = w₁w₂ − 1 = 1: (1, 2). After the step: (1.9, 0.8).
  // Layer 2's G′ with only layer 1 updated, (1.9, 1): r = 0.9, G′ = 0.9·1.9 = 1.71.
  const w1 = tf.variable(tf.tensor1d([2]), true, 'ics_w1');
  const w2 = tf.variable(tf.tensor1d([1]), true, 'ics_w2');
  const loss = () => tf.tidy(() => tf.mul(0.5, tf.square(tf.sub(tf.sum(tf.mul(w1, w2)), 1))) as tf.Scalar);
  const target = { loss, variables: [w1, w2], state: [w1, w2] };
  try {
    const { gradient } = probeLandscape(target, 0, 0.1, [1]);
    const before = new Snapshot([w1, w2]);
    w1.assign(tf.tensor1d([2 - 0.1 * gradient[0][0]]));
    w2.assign(tf.tensor1d([1 - 0.1 * gradient[1][0]]));
    const ics = measureIcs(
      target,
      [
        { index: 0, variables: [w1] },
        { index: 1, variables: [w2] },
      ],
      before,
      gradient,
    );
    before.dispose();
    assert.equal(ics.length, 2);
    close(ics[0].distance, 0, 'nothing precedes layer 1');
    close(ics[0].cosine, 1, 'same gradient');
    close(ics[1].distance, 0.29, '|2 − 1.71|');
    close(ics[1].cosine, 1, 'same direction');
    close(w1.dataSync()[0], 1.9, 'updated w₁ restored');
    close(w2.dataSync()[0], 0.8, 'updated w₂ restored');
  } finally {
    w1.dispose();
    w2.dispose();
  }
});

test('rough-landscape: only without normalization, when the band exceeds half the starting loss at ≥ 10% (and ≥ 2) of probed steps', () => {
  const layer = (index: number, isNorm: boolean): LayerInfo => ({
    index,
    name: `l${index}`,
    className: isNorm ? 'BatchNormalization' : 'Dense',
    outputShape: [null, 4],
    paramCount: 8,
    isNorm,
    source: { file: '/m.js', line: 3 + index, column: 1 },
  });
  const sample = (step: number, loss: number, losses: number[]) => ({ step, loss, gradNorm: 1, losses, gradChange: [1], smoothness: [1] });
  const report = (samples: ReturnType<typeof sample>[]) => ({
    learningRate: 0.1,
    stepSizes: [0.25, 4],
    every: 5,
    samples,
    summary: summarize(samples),
  });
  // Spans ÷ the first probe's loss 2: 0.1, 1.5 (> 0.5), 0.05, 1.5 (> 0.5).
  const rough = report([sample(0, 2, [1.9, 2.1]), sample(5, 2, [1, 4]), sample(10, 1, [0.95, 1.05]), sample(15, 1, [0.5, 3.5])]);
  const found = landscapeFindings([layer(0, false), layer(1, false)], rough);
  assert.equal(found.length, 1);
  assert.equal(found[0].kind, 'rough-landscape');
  assert.equal(found[0].severity, 'info');
  assert.equal(found[0].layer, 'l0');
  assert.equal(found[0].step, 5, 'first rough probe');
  assert.match(found[0].message, /at 2 of 4 probed steps/);
  assert.match(found[0].message, /more than 50% of the loss training started from \(up to 150%\)/);
  assert.match(found[0].message, /smooth landscape is one where/);
  assert.deepEqual(found[0].refactor, { action: 'insert-norm', norm: 'batchNorm' });
  assert.equal(landscapeFindings([layer(0, false), layer(1, true)], rough).length, 0, 'has a norm layer');
  assert.equal(
    landscapeFindings([layer(0, false), layer(1, false)], report(rough.samples.slice(0, 3))).length,
    0,
    'one rough probe is not enough',
  );
  const late = report([sample(0, 2, [1.9, 2.1]), sample(5, 0.1, [0.1, 0.4]), sample(10, 0.1, [0.1, 0.5])]);
  assert.equal(
    landscapeFindings([layer(0, false), layer(1, false)], late).length,
    0,
    'bands 3–4× a small current loss but 0.15–0.2 of the starting one',
  );
  assert.equal(landscapeFindings([layer(0, false)], undefined).length, 0, 'instrument off');
});

test('a step size that blows the loss up is recorded as null, and the weights still come back', () => {
  const w = tf.variable(tf.tensor1d([0, 1]), true, 'w_blowup');
  try {
    // η = 1e38: w′ = (0, 1 − 4e38·s) overflows float32, so L(w′) is Infinity and its gradient NaN.
    const { sample } = probeLandscape({ loss: quadratic(w), variables: [w], state: [w] }, 0, 1e38, [1, 4]);
    assert.deepEqual(sample.losses, [null, null]);
    assert.deepEqual(sample.gradChange, [null, null]);
    assert.deepEqual(sample.smoothness, [null, null]);
    assert.deepEqual(Array.from(w.dataSync()), [0, 1]);
    const summary = summarize([sample]);
    assert.equal(summary.lossSpan, null);
    assert.equal(summary.smoothness, null);
  } finally {
    w.dispose();
  }
});
