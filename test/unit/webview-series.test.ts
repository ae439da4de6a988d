import assert from 'node:assert/strict';
import { test } from 'node:test';
import { panelRun } from './run-fixtures';
import { depthProfile, findingsByLayer, heatmapGrid, layerColor, normalize, rampColor } from '../../webview/series';
import { RunStore } from '../../webview/store';
import { compareVerdicts } from '../../webview/verdict';
import { chooseScale, niceBounds, valueRange } from '../../webview/valueRange';

test('log scale only when positive values span three decades; hysteresis keeps it', () => {
  assert.equal(chooseScale(valueRange([[1e-6, 1, 10]])), 'logarithmic');
  assert.equal(chooseScale(valueRange([[1, 50]])), 'linear');
  assert.equal(chooseScale(valueRange([[-1, 1e-6, 100]])), 'linear', 'negative values need linear');
  assert.equal(chooseScale(valueRange([[0, 1e-5, 1]])), 'logarithmic', 'zeros alone do not prevent log');
  assert.equal(chooseScale(valueRange([[1, 500]]), 'logarithmic'), 'logarithmic');
  assert.equal(chooseScale(valueRange([[1, 50]]), 'logarithmic'), 'linear');
  assert.equal(chooseScale(valueRange([[Number.NaN]])), 'linear');
});

test('layer colours run from blue to red with depth', () => {
  assert.equal(layerColor(0, 10, true), 'hsl(220, 70%, 60%)');
  assert.equal(layerColor(9, 10, false), 'hsl(0, 65%, 42%)');
  const many = new Set(Array.from({ length: 200 }, (_, i) => layerColor(i, 200, true)));
  assert.equal(many.size, 16, 'many layers share 16 depth bands');
  assert.equal(layerColor(199, 200, true), 'hsl(0, 70%, 60%)');
});

test('findingsByLayer keeps the worst severity and every kind', () => {
  const m = findingsByLayer([
    { kind: 'saturated', severity: 'info', layer: 'a', step: 1, message: '', source: null },
    { kind: 'dead', severity: 'error', layer: 'a', step: 2, message: '', source: null },
    { kind: 'dead', severity: 'warning', layer: 'a', step: 3, message: '', source: null },
    { kind: 'exploding', severity: 'error', layer: null, step: 3, message: '', source: null },
  ]);
  assert.deepEqual(m.get('a'), { severity: 'error', kinds: ['saturated', 'dead'] });
  assert.equal(m.size, 1);
});

function store3(): RunStore {
  const run = panelRun(['a', 'b', 'c'], { steps: 4, statNames: ['gradNorm'] });
  const s = new RunStore(run);
  for (let step = 0; step < 4; step++) s.add([{ step, loss: 1, stepMs: 1, values: [step, 10 * step, null as unknown as number] }]);
  s.setFindings([{ kind: 'vanishing', severity: 'warning', layer: 'c', step: 1, message: '', source: null }]);
  return s;
}

test('depthProfile gives the latest value per layer in model order with its flag', () => {
  assert.deepEqual(depthProfile(store3(), 'gradNorm'), [
    { layer: 0, name: 'a', value: 3, severity: null, kinds: [] },
    { layer: 1, name: 'b', value: 30, severity: null, kinds: [] },
    { layer: 2, name: 'c', value: null, severity: 'warning', kinds: ['vanishing'] },
  ]);
});

test('heatmapGrid averages steps into columns, NaN where a layer has no data', () => {
  const g = heatmapGrid(store3(), 'gradNorm', 2);
  assert.equal(g.cols, 2);
  assert.deepEqual(g.colSteps, [0, 2]);
  assert.deepEqual(Array.from(g.values.slice(0, 4)), [0.5, 2.5, 5, 25]);
  assert.ok(Number.isNaN(g.values[4]) && Number.isNaN(g.values[5]));
  assert.equal(g.min, 0.5);
  assert.equal(g.max, 25);
  assert.equal(g.minPositive, 0.5);
  assert.equal(heatmapGrid(store3(), 'gradNorm', 100).cols, 4, 'never more columns than samples');
});

test('normalize and rampColor map values onto the colour scale', () => {
  assert.equal(normalize(10, 1, 100, true), 0.5);
  assert.equal(normalize(0, 1, 100, true), 0, 'zero gradient sits at the bottom of a log scale');
  assert.equal(normalize(5, 0, 10, false), 0.5);
  assert.ok(Number.isNaN(normalize(Number.NaN, 0, 1, false)));
  assert.deepEqual(rampColor(0), [68, 1, 84]);
  assert.deepEqual(rampColor(1), [253, 231, 37]);
});

test('compare verdicts: best healthy candidate, diverged, failed, unhealthy', () => {
  const base = { loss: [], gradNorm: [], findings: [] };
  const v = compareVerdicts([
    {
      ...base,
      norm: 'batchNorm',
      finalLoss: 0.4,
      findings: [{ kind: 'bn-small-batch', severity: 'error', layer: 'bn', step: null, message: '', source: null }],
    },
    { ...base, norm: 'layerNorm', finalLoss: 0.5 },
    {
      ...base,
      norm: 'rmsNorm',
      finalLoss: 0.6,
      findings: [{ kind: 'saturated', severity: 'warning', layer: 'x', step: 2, message: '', source: null }],
    },
    { ...base, norm: 'groupNorm', finalLoss: null },
    { ...base, norm: 'instanceNorm', finalLoss: null, error: 'shape mismatch' },
  ]);
  assert.deepEqual(
    v.map((x) => x.kind),
    ['unhealthy', 'best', 'ok', 'diverged', 'failed'],
  );
  assert.match(v[0].text, /bn-small-batch/);
  assert.equal(v[2].text, 'Healthy, 1 warning');
  assert.equal(v[4].text, 'Failed: shape mismatch');
});

test('niceBounds rounds axis ranges outward to round numbers', () => {
  assert.deepEqual(niceBounds(0.0032, 0.87, true), [0.001, 1]);
  assert.deepEqual(niceBounds(1e-7, 3e-2, true), [1e-7, 0.1]);
  assert.deepEqual(niceBounds(-0.37, 0.81, false), [-1, 1]);
  assert.deepEqual(niceBounds(12, 87, false), [10, 90]);
  assert.deepEqual(niceBounds(5, 5, false), [4, 6]);
  const [lo, hi] = niceBounds(0.2341, 0.2389, false);
  assert.ok(Math.abs(lo - 0.234) < 1e-12 && Math.abs(hi - 0.239) < 1e-12, `${lo} ${hi}`);
});
