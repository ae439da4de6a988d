import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_THRESHOLDS, detectFindings } from '../../src/diagnosis/detectors';
import { MLP, dense, makeInput, only, type Spec, type StatFn } from './detector-input';

test('a healthy run raises nothing', () => {
  const specs: Spec[] = [
    { name: 'conv', className: 'Conv2D', activation: 'relu', paramCount: 448, outputShape: [null, 8, 8, 16] },
    { name: 'bn', className: 'BatchNormalization', isNorm: true, paramCount: 64, outputShape: [null, 8, 8, 16] },
    dense('d1', 'tanh'),
    { name: 'ln', className: 'LayerNormalization', isNorm: true, paramCount: 32 },
    dense('out', 'linear', 17),
  ];
  assert.deepEqual(detectFindings(makeInput(specs, 20)), []);
  assert.deepEqual(detectFindings(makeInput(specs, 1)), []);
  assert.deepEqual(detectFindings({ ...makeInput(specs, 0), loss: [] }), []);
});

test('dead: > 50% of units never active, on the right layer, persistent only', () => {
  const f = detectFindings(makeInput(MLP, 10, (s, l) => (l === 1 && s >= 4 ? { deadFraction: 0.8 } : {})));
  const dead = only(f, 'dead');
  assert.equal(dead.length, 1);
  assert.equal(dead[0].layer, 'd2');
  assert.equal(dead[0].step, 4);
  assert.deepEqual(dead[0].source, { file: '/m.js', line: 11, column: 3 });
  assert.match(dead[0].message, /80% of the units of d2/);
  assert.match(dead[0].message, /zero gradient/);
  assert.deepEqual(dead[0].refactor, { action: 'insert-norm', norm: 'layerNorm' });
  // One bad sample is noise, not a dead layer.
  assert.deepEqual(only(detectFindings(makeInput(MLP, 10, (s, l) => (l === 1 && s === 4 ? { deadFraction: 0.9 } : {}))), 'dead'), []);
  // Exactly at the threshold is not above it; a tuned threshold applies.
  assert.equal(only(detectFindings(makeInput(MLP, 10, (_s, l) => (l === 0 ? { deadFraction: 0.5 } : {}))), 'dead').length, 0);
  assert.equal(
    only(
      detectFindings(
        makeInput(MLP, 10, (_s, l) => (l === 0 ? { deadFraction: 0.3 } : {})),
        { deadFraction: 0.25 },
      ),
      'dead',
    ).length,
    1,
  );
  // A fully dead layer is an error.
  assert.equal(only(detectFindings(makeInput(MLP, 5, (_s, l) => (l === 2 ? { deadFraction: 1 } : {}))), 'dead')[0].severity, 'error');
});

test('dead and saturated: units that came back are not reported; back for fewer samples than the persistence, they are', () => {
  // The public MNIST example at batch 16: fc1's ReLU sat just above 50% for six steps, then settled at 35-40%.
  const edge = (until: number) => (s: number, l: number) => (l === 1 ? { deadFraction: s >= 6 && s < until ? 0.52 : 0.38 } : {});
  assert.deepEqual(only(detectFindings(makeInput(MLP, 20, edge(12))), 'dead'), []);
  const stillDead = only(detectFindings(makeInput(MLP, 20, edge(18))), 'dead');
  assert.deepEqual(
    stillDead.map((f) => [f.layer, f.step]),
    [['d2', 6]],
    'two samples back below the threshold are not yet a recovery',
  );
  assert.match(stillDead[0].message, /^52% of the units of d2/, 'the message quotes the latest value above the threshold');
  const specs = [dense('t1', 'tanh'), dense('s2', 'sigmoid'), dense('out', 'linear', 17)];
  const saturatedUntil = (until: number) => (s: number, l: number) => (l === 1 && s < until ? { saturatedFraction: 0.7 } : {});
  assert.deepEqual(only(detectFindings(makeInput(specs, 12, saturatedUntil(6))), 'saturated'), []);
  assert.equal(only(detectFindings(makeInput(specs, 12, saturatedUntil(11))), 'saturated').length, 1);
});

test('gamma-collapse: every |γ| of a norm layer near 0', () => {
  const specs: Spec[] = [
    dense('d1'),
    { name: 'ln', className: 'LayerNormalization', isNorm: true, paramCount: 32 },
    dense('out', 'linear', 17),
  ];
  const f = detectFindings(makeInput(specs, 8, (s, l) => (l === 1 && s >= 2 ? { gammaMin: -0.06, gammaMax: 0.08, gammaMean: 0.005 } : {})));
  const g = only(f, 'gamma-collapse');
  assert.deepEqual(
    g.map((x) => [x.layer, x.step]),
    [['ln', 2]],
  );
  // One channel still alive: not collapsed.
  assert.deepEqual(
    only(detectFindings(makeInput(specs, 8, (_s, l) => (l === 1 ? { gammaMin: 0.001, gammaMax: 0.3 } : {}))), 'gamma-collapse'),
    [],
  );
});

test('vanishing: tiny RMS gradient (SageMaker rule) names the earliest starved layer', () => {
  const f = detectFindings(makeInput(MLP, 6, (_s, l) => (l <= 1 ? { gradNorm: 1e-6 } : {})));
  const v = only(f, 'vanishing');
  assert.equal(v.length, 1);
  assert.equal(v[0].layer, 'd1');
  assert.match(v[0].message, /1 more layer/);
  assert.equal(v[0].refactor?.action, 'insert-norm');
  assert.deepEqual(only(f, 'effective-lr'), [], 'a starved layer is not also reported as a learning-rate problem');
  // The same tiny gradients in every layer are the loss's scale (a loss in small units), not gradients vanishing
  // through depth: Adam trains it as at any other scale.
  const scaled = detectFindings(makeInput(MLP, 6, (_s, l) => ({ gradNorm: 1e-6 * (1 + 0.1 * l) })));
  assert.deepEqual(only(scaled, 'vanishing'), []);
});

test('vanishing: first/last gradient ratio (AutoTrainer rule)', () => {
  // RMS gradient of d1 = 5e-5/√1056 ≈ 1.5e-6 (above 1e-7), but 1e-3 of the last layer's 0.08.
  const f = detectFindings(makeInput(MLP, 6, (_s, l) => (l === 0 ? { gradNorm: 5e-5 } : l === 3 ? { gradNorm: 0.08 } : {})));
  const v = only(f, 'vanishing');
  assert.deepEqual(
    v.map((x) => x.layer),
    ['d1'],
  );
  assert.match(v[0].message, /ratio/);
  // Ratio small but first gradient not below 1e-4: no finding.
  assert.deepEqual(
    only(detectFindings(makeInput(MLP, 6, (_s, l) => (l === 0 ? { gradNorm: 2e-4 } : l === 3 ? { gradNorm: 1 } : {}))), 'vanishing'),
    [],
  );
});

test('exploding: gradient ratio, variance through depth, variance over the run, loss', () => {
  const ratio = only(
    detectFindings(makeInput(MLP, 6, (_s, l) => (l === 0 ? { gradNorm: 10 } : l === 3 ? { gradNorm: 0.1 } : {}))),
    'exploding',
  );
  assert.deepEqual(
    ratio.map((x) => x.layer),
    ['d1'],
  );
  assert.match(ratio[0].message, /100× that of out/);
  // Over a last layer whose own gradient is starved (RMS 1e-9/√17) the ratio measures that layer, not growth.
  assert.deepEqual(
    only(detectFindings(makeInput(MLP, 6, (_s, l) => (l === 0 ? { gradNorm: 1e-6 } : l === 3 ? { gradNorm: 1e-9 } : {}))), 'exploding'),
    [],
  );

  const deep: Spec[] = Array.from({ length: 6 }, (_, i) => dense(`d${i}`, 'linear'));
  const depth = only(detectFindings(makeInput(deep, 6, (_s, l) => (l >= 2 ? { variance: 30 ** (l - 1) } : {}))), 'exploding');
  assert.deepEqual(
    depth.map((x) => x.layer),
    ['d2'],
  );
  assert.match(depth[0].message, /30× per layer from d2 to d5/);
  // Two growing layers in a row are not yet a trend through depth.
  assert.deepEqual(
    only(detectFindings(makeInput(deep, 6, (_s, l) => (l === 3 ? { variance: 20 } : l > 3 ? { variance: 1 } : {}))), 'exploding'),
    [],
  );

  const overRun = only(detectFindings(makeInput(MLP, 10, (s, l) => (l === 1 ? { variance: 3 ** s } : {}))), 'exploding');
  assert.deepEqual(
    overRun.map((x) => [x.layer, x.step]),
    [['d2', 5]],
  );
  // The output layer growing to the targets' scale is learning, not exploding.
  assert.deepEqual(only(detectFindings(makeInput(MLP, 10, (s, l) => (l === 3 ? { variance: 3 ** s } : {}))), 'exploding'), []);
  // Nor is a conv whose output a BatchNorm normalizes: its weights grow freely (Adam, scale invariance) and the norm
  // divides the scale out (ResNet18's last conv grew 105× in 120 steps, healthy).
  const normed: Spec[] = [
    dense('d1'),
    { name: 'conv', className: 'Conv2D', paramCount: 9216 },
    { name: 'bn', className: 'BatchNormalization', isNorm: true, paramCount: 64 },
    dense('out', 'linear', 17),
  ];
  assert.deepEqual(only(detectFindings(makeInput(normed, 10, (s, l) => (l === 1 ? { variance: 3 ** s } : {}))), 'exploding'), []);
  // Growing from a small start up to working scale is learning: a VAE's latent means (0.02 → 1.4) and its decoder's
  // logits (0.05 → 14), growing over 100× since step 0.
  const vae = makeInput(MLP, 10, (s, l) => (l === 1 ? { variance: 0.02 * 1.6 ** s } : l === 2 ? { variance: 0.05 * 1.9 ** s } : {}));
  assert.deepEqual(only(detectFindings(vae), 'exploding'), []);
  // A norm between layers breaks growth through depth, and tiny variances growing stay tiny.
  const deepNormed: Spec[] = deep.flatMap((d, i) => [d, { name: `bn${i}`, className: 'BatchNormalization', isNorm: true, paramCount: 32 }]);
  assert.deepEqual(
    only(detectFindings(makeInput(deepNormed, 6, (_s, l) => (l % 2 === 0 && l >= 2 ? { variance: 30 ** (l / 2) } : {}))), 'exploding'),
    [],
  );
  assert.deepEqual(
    only(detectFindings(makeInput(deep, 6, (_s, l) => (l >= 2 ? { variance: 1e-12 * 30 ** (l - 1) } : {}))), 'exploding'),
    [],
    'from 1e-12 to 2.4e-5: growing, not exploding',
  );

  // The loss: growth relative to where it started, persistently (makeInput's loss is 1/(1 + step): it starts at 0.5,
  // the median of 1, 0.5 and 0.33).
  const growing = makeInput(MLP, 8);
  growing.loss.forEach((_, s) => (growing.loss[s] = s >= 3 ? 150 * 2 ** s : growing.loss[s]));
  const loss = only(detectFindings(growing), 'exploding');
  assert.deepEqual(
    loss.map((x) => [x.layer, x.step]),
    [[null, 3]],
  );
  assert.match(loss[0].message, /2400× where it started \(0.5; threshold 100×\)/);
  // One bad batch that recovers is not an explosion.
  const spike = makeInput(MLP, 8);
  spike.loss[3] = 2500;
  assert.deepEqual(only(detectFindings(spike), 'exploding'), []);
  // A loss summed over batch and pixels (a VAE's) is large from the start and falls: its scale is not a finding,
  // nor is the same loss 1000× smaller (a mean instead of a sum).
  for (const scale of [6.7e4, 67]) {
    const summed = makeInput(MLP, 8);
    summed.loss.forEach((_, s) => (summed.loss[s] = scale / (1 + 0.1 * s)));
    assert.deepEqual(only(detectFindings(summed), 'exploding'), [], `loss starting at ${scale}`);
  }
});

test('non-finite: reported once, at the origin layer, as an error', () => {
  const f = detectFindings(makeInput(MLP, 8, (s, l) => (s >= 5 && l >= 1 ? { nonFinite: 16, variance: NaN } : {})));
  const nf = only(f, 'non-finite');
  assert.deepEqual(
    nf.map((x) => [x.layer, x.step, x.severity]),
    [['d2', 5, 'error']],
  );
  assert.equal(f[0].kind, 'non-finite', 'errors sort first');
  assert.deepEqual(only(f, 'effective-lr'), []);

  const grads = only(detectFindings(makeInput(MLP, 8, (s, l) => (s >= 3 && l >= 2 ? { gradNorm: NaN } : {}))), 'non-finite');
  assert.deepEqual(
    grads.map((x) => [x.layer, x.step]),
    [['out', 3]],
  );
  assert.match(grads[0].message, /gradients/);

  const input = makeInput(MLP, 4);
  input.loss.push(NaN);
  const loss = only(detectFindings(input), 'non-finite');
  assert.deepEqual(
    loss.map((x) => [x.layer, x.step]),
    [[null, 4]],
  );
});

test('non-finite: a stat that is only not measured in some steps (a GAN alternating two models) is not a NaN', () => {
  // Weights of the layers a step does not train are NaN ("does not apply") in that step, finite in the next.
  const alternating = detectFindings(
    makeInput(MLP, 8, (s, l) => (s % 2 === 1 && l >= 2 ? { weightNorm: NaN, gradNorm: NaN, updateRatio: NaN } : {})),
  );
  assert.deepEqual(only(alternating, 'non-finite'), []);
  // Not measured in the last sample only, with a finite loss: nothing broke.
  const lastOnly = detectFindings(makeInput(MLP, 6, (s, l) => (s === 5 && l >= 2 ? { weightNorm: NaN, gradNorm: NaN } : {})));
  assert.deepEqual(only(lastOnly, 'non-finite'), []);
  // Nor in the last two (three models taking turns, as CycleGAN's optimizers do), while the layers' outputs stay finite.
  const lastTwo = detectFindings(makeInput(MLP, 6, (s, l) => (s >= 4 && l >= 2 ? { weightNorm: NaN, gradNorm: NaN } : {})));
  assert.deepEqual(only(lastTwo, 'non-finite'), []);
  // NaN weights that then make NaN outputs are the origin, at the sample the weights broke.
  const spreads = makeInput(MLP, 6, (s, l) =>
    s >= 3 && l === 2 ? { weightNorm: NaN, gradNorm: NaN, ...(s >= 4 ? { nonFinite: 17 } : {}) } : {},
  );
  assert.deepEqual(
    only(detectFindings(spreads), 'non-finite').map((x) => [x.layer, x.step]),
    [['d3', 3]],
  );
  // The same NaN with the loss broken at that step is the origin.
  const broken = makeInput(MLP, 6, (s, l) => (s === 5 && l >= 2 ? { weightNorm: NaN } : {}));
  broken.loss[5] = NaN;
  assert.deepEqual(
    only(detectFindings(broken), 'non-finite').map((x) => [x.layer, x.step]),
    [['d3', 5]],
  );
});

test('saturated: > 50% of tanh/sigmoid inputs beyond ±5', () => {
  const specs = [dense('t1', 'tanh'), dense('s2', 'sigmoid'), dense('out', 'linear', 17)];
  const f = detectFindings(makeInput(specs, 6, (_s, l) => (l === 1 ? { saturatedFraction: 0.7 } : {})));
  const sat = only(f, 'saturated');
  assert.deepEqual(
    sat.map((x) => x.layer),
    ['s2'],
  );
  assert.match(sat[0].message, /70% of s2's sigmoid inputs are beyond ±5/);
  assert.equal(sat[0].refactor?.action, 'insert-norm');
  // A model's output activation saturates where its targets are: the last layer, or the last of each model of a
  // script (a GAN generator's tanh drawing background at −1), is not judged.
  const outputs = [dense('netG/h', 'relu'), dense('netG/out', 'tanh'), dense('netD/h', 'relu'), dense('netD/out', 'sigmoid')];
  assert.deepEqual(
    only(detectFindings(makeInput(outputs, 6, (_s, l) => (l % 2 === 1 ? { saturatedFraction: 0.9 } : {}))), 'saturated'),
    [],
  );
  const hidden = [dense('netG/h', 'tanh'), dense('netG/out', 'tanh'), dense('netD/h', 'relu'), dense('netD/out', 'sigmoid')];
  assert.deepEqual(
    only(detectFindings(makeInput(hidden, 6, (_s, l) => (l === 2 ? {} : { saturatedFraction: 0.9 }))), 'saturated').map((x) => x.layer),
    ['netG/h'],
  );
});

test('a fully dead layer explains the starved layers before it', () => {
  const f = detectFindings(makeInput(MLP, 6, (_s, l) => (l === 1 ? { deadFraction: 1 } : l === 0 ? { gradNorm: 0, updateRatio: 0 } : {})));
  assert.deepEqual(
    f.map((x) => [x.kind, x.layer]),
    [['dead', 'd2']],
  );
  assert.match(f[0].message, /no gradient reaches the layers before it/);
});

test('a run cut short by NaN still judges its usable samples', () => {
  const deep: Spec[] = Array.from({ length: 5 }, (_, i) => dense(`d${i}`, 'linear'));
  const input = makeInput(deep, 2, (s, l) => (s === 0 ? { variance: 100 ** l } : { nonFinite: 16, variance: NaN }));
  input.loss[1] = NaN;
  input.samples[1].loss = NaN;
  const f = detectFindings(input);
  assert.deepEqual(
    only(f, 'exploding').map((x) => [x.layer, x.step]),
    [['d1', 0]],
  );
  assert.deepEqual(
    only(f, 'non-finite').map((x) => [x.layer, x.step]),
    [['d0', 1]],
  );
});

test('thresholds default to the published values', () => {
  assert.equal(DEFAULT_THRESHOLDS.deadFraction, 0.5);
  assert.equal(DEFAULT_THRESHOLDS.vanishingGradient, 1e-7);
  assert.equal(DEFAULT_THRESHOLDS.explodingRatio, 70);
  assert.equal(DEFAULT_THRESHOLDS.saturatedFraction, 0.5);
  assert.deepEqual([DEFAULT_THRESHOLDS.updateRatioMin, DEFAULT_THRESHOLDS.updateRatioMax], [1e-5, 1e-1]);
});

test('a layer measured only every other step (a GAN network): "not measured" samples neither count nor break a persistent finding', () => {
  // d2 is measured on even steps only (NaN, "not measured", in the others) and dead from step 4 on.
  const gan: StatFn = (s, l) => (l === 1 ? (s % 2 === 1 ? { deadFraction: NaN, gradNorm: NaN } : s >= 4 ? { deadFraction: 0.8 } : {}) : {});
  const dead = only(detectFindings(makeInput(MLP, 16, gan)), 'dead');
  assert.equal(dead.length, 1);
  assert.equal(dead[0].layer, 'd2');
  assert.equal(dead[0].step, 4);
  // A healthy measured sample between bad ones still breaks the run.
  const broken: StatFn = (s, l) => (l === 1 ? (s % 2 === 1 ? { deadFraction: NaN } : s % 4 === 0 ? { deadFraction: 0.8 } : {}) : {});
  assert.deepEqual(only(detectFindings(makeInput(MLP, 16, broken)), 'dead'), []);
  // Starved gradients on the measured steps only: vanishing fires too.
  const starved: StatFn = (s, l) => (l === 0 ? (s % 2 === 1 ? { gradNorm: NaN } : { gradNorm: 1e-9 }) : {});
  assert.equal(only(detectFindings(makeInput(MLP, 16, starved)), 'vanishing')[0]?.layer, 'd1');
});
