// A detector that throws must not look like a healthy model: the other detectors still report, the run
// gets a `detector-failed` finding naming the detector, and the worker's log gets the stack once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { STAT_NAMES, type LayerInfo, type StepSample } from '../../src/protocol';
import { DETECTORS, detectFindings, type DetectorInput } from '../../src/diagnosis/detectors';
import { detectorLog, findingsFor } from '../../src/diagnosis/findings';
import type { WorkerEvent } from '../../src/protocol';
import { runInProcess } from './engine-fixtures';

/** One relu layer that is 90% dead at every step: the dead detector fires. */
function deadLayerInput(): DetectorInput {
  const layer: LayerInfo = {
    index: 0,
    name: 'd1',
    className: 'Dense',
    activation: 'relu',
    outputShape: [null, 16],
    paramCount: 272,
    isNorm: false,
    source: { file: '/m.js', line: 4, column: 3 },
  };
  const stats: Partial<Record<(typeof STAT_NAMES)[number], number>> = { variance: 1, deadFraction: 0.9, nonFinite: 0 };
  const samples: StepSample[] = [0, 1, 2, 3, 4].map((step) => ({
    step,
    loss: 1,
    stepMs: 1,
    values: STAT_NAMES.map((s) => stats[s] ?? NaN),
  }));
  return { layers: [layer], statNames: STAT_NAMES, samples, loss: samples.map((s) => s.loss), batchSize: 32 };
}

/** Runs `body` with `DETECTORS[name]` throwing, then puts the real detector back. */
async function withBrokenDetector<T>(name: keyof typeof DETECTORS, body: () => T | Promise<T>): Promise<T> {
  const real = DETECTORS[name];
  (DETECTORS as Record<string, unknown>)[name] = () => {
    throw new TypeError(`${name} blew up`);
  };
  try {
    return await body();
  } finally {
    (DETECTORS as Record<string, unknown>)[name] = real;
  }
}

test('a throwing detector costs only its own findings and is reported as detector-failed', async () => {
  assert.deepEqual(
    detectFindings(deadLayerInput()).map((f) => f.kind),
    ['dead'],
  );
  const logged: string[] = [];
  const findings = await withBrokenDetector('saturated', () => detectFindings(deadLayerInput(), {}, (m) => logged.push(m)));
  assert.deepEqual(findings.map((f) => f.kind).sort(), ['dead', 'detector-failed']);
  const failed = findings.find((f) => f.kind === 'detector-failed')!;
  assert.equal(failed.severity, 'warning');
  assert.match(failed.message, /saturated detector failed \(saturated blew up\)/);
  assert.equal(logged.length, 1);
  assert.match(logged[0], /the saturated detector failed: TypeError: saturated blew up\n\s+at /);
});

test('a failure outside the detectors (the shared statistics) still yields a detector-failed finding', () => {
  const logged: string[] = [];
  const broken = { ...deadLayerInput(), samples: null as unknown as StepSample[] };
  const findings = findingsFor(broken, {}, (m) => logged.push(m));
  assert.deepEqual(
    findings.map((f) => f.kind),
    ['detector-failed'],
  );
  assert.equal(logged.length, 1);
});

test('the run log sends each detector failure once, whatever stack it was reached by', () => {
  const sent: WorkerEvent[] = [];
  const log = detectorLog((e) => sent.push(e), 'r1');
  log('the dead detector failed: TypeError: x\n    at a (f.js:1)');
  log('the dead detector failed: TypeError: x\n    at b (f.js:2)');
  log('the vanishing detector failed: TypeError: y\n    at a (f.js:1)');
  assert.deepEqual(
    sent.map((e) => (e.type === 'log' ? [e.level, e.message.split('\n')[0]] : e.type)),
    [
      ['error', 'run r1: the dead detector failed: TypeError: x'],
      ['error', 'run r1: the vanishing detector failed: TypeError: y'],
    ],
  );
});

test('in a run, a throwing detector shows in the report and sends one error log event', async () => {
  const file = path.resolve('test/fixtures/detectors/dead.js');
  const outcome = await withBrokenDetector('exploding', () => runInProcess(file, { steps: 10, seed: 42 }));
  assert.ok(outcome.report, `the run must finish: ${outcome.error?.message}`);
  const kinds = outcome.report.findings.map((f) => f.kind);
  assert.ok(kinds.includes('dead'), `the other detectors still report: ${kinds.join(', ')}`);
  assert.ok(kinds.includes('detector-failed'), `the failure is a finding: ${kinds.join(', ')}`);
  const lines = outcome.logs.filter((l) => /the exploding detector failed/.test(l.message));
  assert.equal(lines.length, 1, 'logged once, though findings are recomputed at every progress batch');
  assert.equal(lines[0].level, 'error');
});
