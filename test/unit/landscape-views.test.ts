// Landscape data as the editor and the panel show it: ICS per layer in hovers (src/editor), bands and
// per-layer ICS means (webview/landscapeSeries.ts), the sweep's text table (src/cli/sweepTable.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildLayerHover } from '../../src/editor/hoverMarkdown';
import { icsSeries, type LayerSnapshot } from '../../src/host/runResults';
import { printSweep } from '../../src/cli/sweepTable';
import { parseCheckArgs } from '../../src/cli/check';
import { landscapeOption, readSettings } from '../../src/host/settings';
import type { LandscapeReport, LrSweep, RunReport } from '../../src/protocol';
import { bandOf, icsByLayer } from '../../webview/landscapeSeries';
import { layerInfo } from './run-fixtures';

const landscape: LandscapeReport = {
  learningRate: 0.1,
  stepSizes: [0.25, 4],
  every: 5,
  summary: { lossSpan: 1, relativeLossSpan: 0.5, gradChange: 2, smoothness: 3 },
  samples: [
    {
      step: 0,
      loss: 2,
      gradNorm: 1,
      losses: [1.5, 2.5],
      gradChange: [0.5, 2],
      smoothness: [20, 5],
      ics: [
        { layer: 0, distance: 0, cosine: 1 },
        { layer: 1, distance: 0.4, cosine: 0.9 },
      ],
    },
    {
      step: 5,
      loss: 1,
      gradNorm: 1,
      losses: [null, 0.5],
      gradChange: [null, null],
      smoothness: [1, 2],
      ics: [
        { layer: 0, distance: 0, cosine: 1 },
        { layer: 1, distance: 0.2, cosine: null },
      ],
    },
  ],
};

test('bands: min and max over the step sizes at each probed step, NaN where none is finite', () => {
  assert.deepEqual(bandOf(landscape, 'losses'), { steps: [0, 5], low: [1.5, 0.5], high: [2.5, 0.5] });
  const grad = bandOf(landscape, 'gradChange');
  assert.deepEqual(grad.low.slice(0, 1), [0.5]);
  assert.ok(Number.isNaN(grad.low[1]) && Number.isNaN(grad.high[1]));
  assert.deepEqual(bandOf(landscape, 'smoothness').high, [20, 2]);
});

test('ICS per layer: means over probed steps, skipping missing values', () => {
  const rows = icsByLayer(landscape);
  assert.equal(rows.length, 2);
  assert.deepEqual(rows[0], { layer: 0, distance: 0, cosine: 1, samples: 2 });
  assert.ok(Math.abs(rows[1].distance! - 0.3) < 1e-12);
  assert.equal(rows[1].cosine, 0.9);
});

test("a norm layer's hover shows its latest ICS with a trend; other layers do not", () => {
  const report = { landscape } as RunReport;
  const ics = icsSeries(report, 1)!;
  assert.deepEqual(ics.steps, [0, 5]);
  assert.deepEqual(ics.distance, [0.4, 0.2]);
  assert.ok(Number.isNaN(ics.cosine[1]));
  assert.equal(icsSeries(report, 7), undefined);
  const layer = layerInfo(1, 'bn', {
    className: 'BatchNormalization',
    outputShape: [null, 4],
    paramCount: 16,
    isNorm: true,
    source: { file: '/m.js', line: 4, column: 3 },
  });
  const snap: LayerSnapshot = { layer, latest: { mean: 0 }, step: 5, series: () => [0, 0], ics };
  const md = buildLayerHover({
    file: '/m.js',
    callee: 'batchNormalization',
    className: 'BatchNormalization',
    isNorm: true,
    instances: [snap],
    findings: [],
  });
  assert.match(md, /Internal covariate shift at step 5: ‖G − G′‖ 0\.2, cos\(G, G′\) –/);
  const dense = buildLayerHover({
    file: '/m.js',
    callee: 'dense',
    className: 'Dense',
    isNorm: false,
    instances: [{ ...snap, layer: { ...layer, isNorm: false } }],
    findings: [],
  });
  assert.doesNotMatch(dense, /covariate shift/);
});

test('the sweep table marks good cells and prints the verdict', () => {
  const sweep: LrSweep = {
    learningRates: [0.01, 0.1],
    goodLoss: 1,
    best: 'layerNorm',
    message: 'layerNorm tolerates the widest range of learning rates.',
    cells: [
      { variant: 'layerNorm', learningRate: 0.01, evalLoss: 0.5, startLoss: 2 },
      { variant: 'layerNorm', learningRate: 0.1, evalLoss: 0.9, startLoss: 2 },
      { variant: 'batchNorm', learningRate: 0.01, evalLoss: 0.7, startLoss: 2 },
      { variant: 'batchNorm', learningRate: 0.1, evalLoss: null, startLoss: null, error: 'NaN' },
    ],
    tolerance: [
      { variant: 'layerNorm', goodRates: 2, low: 0.01, high: 0.1 },
      { variant: 'batchNorm', goodRates: 1, low: 0.01, high: 0.01 },
    ],
  };
  let text = '';
  printSweep(sweep, (t) => {
    text += t;
  });
  assert.match(text, /layerNorm\s+0\.500 ✓\s+0\.900 ✓/);
  assert.match(text, /batchNorm\s+0\.700 ✓\s+failed/);
  assert.match(text, /tolerates the widest range/);
});

test('CLI: --landscape [every=K] on check, with the default K and clear usage errors', () => {
  const parsed = (argv: string[]) => {
    const r = parseCheckArgs(argv);
    assert.ok(r !== 'help');
    return r.options.landscape;
  };
  assert.equal(parsed(['m.js']), undefined);
  assert.deepEqual(parsed(['m.js', '--landscape']), { every: 10 });
  assert.deepEqual(parsed(['--landscape', 'every=3', 'm.js']), { every: 3 });
  assert.deepEqual(parsed(['m.js', '--landscape=every=4', '--json']), { every: 4 });
  assert.throws(() => parsed(['m.js', '--landscape', 'every=0']), /--landscape every must be a positive integer/);
  assert.throws(() => parsed(['m.js', '--landscape=often']), /--landscape expects every=K and\/or ics=on\|off, got 'often'/);
  assert.deepEqual(parsed(['m.js', '--landscape', 'every=5,ics=off']), { every: 5, ics: false });
  assert.deepEqual(parsed(['m.js', '--landscape', 'ics=on']), { every: 10, ics: true });
});

test('settings: landscape off by default; on gives every and ics; the sweep setting is off, auto or ≥ 2 rates', () => {
  const read = (values: Record<string, unknown>) => readSettings({ get: <T>(key: string) => values[key] as T | undefined });
  assert.deepEqual(landscapeOption(read({})), {});
  assert.deepEqual(landscapeOption(read({ landscape: true, landscapeEvery: 4 })), { landscape: { every: 4, ics: true } });
  assert.deepEqual(landscapeOption(read({ landscape: true, landscapeIcs: false })), { landscape: { every: 10, ics: false } });
  assert.equal(read({}).compareLearningRates, 'off');
  assert.equal(read({ compareLearningRates: 'auto' }).compareLearningRates, 'auto');
  assert.deepEqual(read({ compareLearningRates: [1e-2, 'x', 1e-3, -1] }).compareLearningRates, [1e-3, 1e-2]);
  assert.equal(read({ compareLearningRates: [1e-2] }).compareLearningRates, 'off', 'one rate is no sweep');
});
