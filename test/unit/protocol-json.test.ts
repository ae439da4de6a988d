// The CLI's JSON edge: findings are `findings` in the code and `flags` in the documented JSON.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareJson, reportJson, type Finding, type RunReport } from '../../src/protocol';
import type { CompareResult } from '../../src/protocol/webview';

const dead: Finding = { kind: 'dead', severity: 'error', layer: 'd1', step: 3, message: 'm', source: null };

test('reportJson names the findings `flags`, in the same place, and leaves the report alone', () => {
  const report = { file: '/m.js', layers: [], findings: [dead], timing: { totalMs: 1 } } as unknown as RunReport;
  const json = reportJson(report);
  assert.deepEqual(Object.keys(json), ['file', 'layers', 'flags', 'timing']);
  assert.deepEqual(json.flags, [dead]);
  assert.deepEqual(report.findings, [dead]);
  assert.ok(!('flags' in report));
});

test("compareJson names each candidate's findings `flags`", () => {
  const result: CompareResult = {
    file: '/m.js',
    line: 3,
    candidates: [
      { norm: 'batchNorm', finalLoss: 1, loss: [], gradNorm: [], findings: [dead] },
      { norm: 'layerNorm', finalLoss: null, loss: [], gradNorm: [], findings: [], error: 'e' },
    ],
  };
  const json = compareJson(result);
  assert.deepEqual(
    json.candidates.map((c) => [c.norm, c.flags.length, 'findings' in c]),
    [
      ['batchNorm', 1, false],
      ['layerNorm', 0, false],
    ],
  );
});
