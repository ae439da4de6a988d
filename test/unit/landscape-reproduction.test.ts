// Reproduction of Santurkar et al. 2018, Fig. 4, on NormScope's own instrument: a 10-layer plain ReLU MLP and
// the same network with BatchNorm after every hidden layer, same seed, data and SGD rate. The BatchNorm model's
// loss-variation band and gradient change along the gradient are smaller over the run. Prints the ratios.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { runInProcess, FIXTURES } from './engine-fixtures';
import { relativeSpans } from '../../src/worker/landscape/findings';

const LANDSCAPE_FIXTURES = path.resolve(FIXTURES, '../landscape');

async function landscapeOf(file: string) {
  const { report, error } = await runInProcess(path.join(LANDSCAPE_FIXTURES, file), {
    steps: 120,
    backend: 'wasm',
    seed: 3,
    landscape: { every: 3, ics: false },
  });
  assert.ok(report?.landscape, `${file}: ${error?.message}`);
  return report;
}

test('reproduction: BatchNorm makes the landscape smoother than the plain deep net (direction asserted, ratios printed)', async () => {
  const plain = await landscapeOf('deep-plain.js');
  const bn = await landscapeOf('deep-bn.js');
  const p = plain.landscape!.summary;
  const b = bn.landscape!.summary;
  const ratio = (x: number | null, y: number | null) => (x !== null && y !== null && y > 0 ? x / y : NaN);
  const spans = (r: typeof plain) =>
    relativeSpans(r.landscape!)
      .map((v) => v.toFixed(3))
      .join(' ');
  console.log(
    JSON.stringify(
      {
        plain: p,
        batchNorm: b,
        plainOverBn: {
          lossSpan: ratio(p.lossSpan, b.lossSpan),
          relativeLossSpan: ratio(p.relativeLossSpan, b.relativeLossSpan),
          gradChange: ratio(p.gradChange, b.gradChange),
          smoothness: ratio(p.smoothness, b.smoothness),
        },
      },
      null,
      1,
    ),
  );
  console.log(`plain relative spans: ${spans(plain)}\nbn relative spans: ${spans(bn)}`);
  assert.ok(p.lossSpan! > b.lossSpan!, 'loss-variation band: plain wider than BatchNorm');
  assert.ok(p.gradChange! > b.gradChange!, 'gradient change: plain larger than BatchNorm');
  assert.ok(
    plain.findings.some((f) => f.kind === 'rough-landscape'),
    'the plain net gets the rough-landscape finding',
  );
  assert.ok(!bn.findings.some((f) => f.kind === 'rough-landscape'));
});
