import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildLayerHover, escapeMarkdown, formatNumber, sparkline } from '../../src/editor/hoverMarkdown';
import type { LayerSnapshot } from '../../src/host/runResults';
import { layerInfo } from './run-fixtures';

const layer = layerInfo(2, 'dense_2', {
  outputShape: [null, 16],
  paramCount: 144,
  activation: 'relu',
  source: { file: '/m.js', line: 7, column: 13 },
});
const snap = (over: Partial<LayerSnapshot> = {}): LayerSnapshot => ({
  layer,
  latest: { mean: 0.5, variance: 0.25, gain: 1.2, gradNorm: 3.4e-8, deadFraction: 1 },
  step: 49,
  series: (s) => (s === 'gradNorm' ? [1, 0.1, 0.01, 0.001] : [0.5, 0.5]),
  ...over,
});

test('sparkline maps values to bars, log-scaling when they span decades', () => {
  assert.equal(sparkline([0, 1, 2, 3, 4, 5, 6, 7]), '▁▂▃▄▅▆▇█');
  assert.equal(sparkline([1000, 100, 10, 1]), '█▆▃▁');
  assert.equal(sparkline([2, 2, 2]), '▄▄▄');
  assert.equal(sparkline([1]), '');
  assert.equal(sparkline([NaN, 1, NaN, 2]), '▁█');
});

test('formatNumber keeps 3 significant digits and uses exponents at the extremes', () => {
  assert.equal(formatNumber(0.123456), '0.123');
  assert.equal(formatNumber(3.4e-8), '3.40e-8');
  assert.equal(formatNumber(123456), '1.23e+5');
  assert.equal(formatNumber(0), '0');
  assert.equal(formatNumber(NaN), '–');
  assert.equal(formatNumber(Infinity), '∞');
  assert.equal(formatNumber(undefined), '–');
});

test('hover before any run names the layer and says how to get numbers', () => {
  const md = buildLayerHover({
    file: '/m.js',
    callee: 'batchNormalization',
    className: 'BatchNormalization',
    isNorm: true,
    instances: [],
    findings: [],
  });
  assert.match(md, /`BatchNormalization` layer \(`tf\.layers\.batchNormalization`\)/);
  assert.match(md, /No run yet/);
});

test('hover after a run lists each instance with stats, trend, findings and command links', () => {
  const md = buildLayerHover({
    file: '/m.js',
    callee: 'dense',
    className: 'Dense',
    isNorm: false,
    instances: [snap(), snap({ layer: { ...layer, index: 3, name: 'dense_3' } })],
    findings: [
      {
        kind: 'dead',
        severity: 'warning',
        layer: 'dense_2',
        step: 0,
        message: '100% of units never fire.',
        fix: 'Lower the learning rate.',
        source: layer.source,
      },
    ],
    runStatus: 'done · backend wasm',
  });
  assert.match(md, /\*\*dense\\_2\*\* · Dense · output `\[batch,16\]` · step 49/);
  assert.match(md, /\*\*dense\\_3\*\*/);
  assert.match(md, /\| grad-norm \| 3\.40e-8 \| █▆▃▁ \|/);
  assert.match(md, /\| dead \| 1 \|/);
  assert.match(md, /\$\(warning\) \*\*dead\*\* on dense\\_2 \(from step 0\)/);
  assert.match(md, /command:normscope\.focusLayer\?%5B%22%2Fm\.js%22%2C2%5D/);
  assert.doesNotMatch(md, /Swap normalization/, 'a Dense layer offers no norm swap');
});

test('user text is escaped so it cannot inject markdown or links', () => {
  assert.equal(escapeMarkdown('[x](command:evil)'), '\\[x\\]\\(command:evil\\)');
  const md = buildLayerHover({
    file: '/m.js',
    callee: 'dense',
    className: 'Dense',
    isNorm: false,
    instances: [snap({ layer: { ...layer, name: '<img src=x onerror=alert(1)>' } })],
    findings: [],
  });
  assert.match(md, /\\<img src=x onerror=alert\\\(1\\\)\\>/);
});
