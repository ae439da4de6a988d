// Threshold overrides (setting `normscope.thresholds`, CLI `--threshold name=value`) reach the detectors.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCheckArgs } from '../../src/cli/check';
import { checkThresholds } from '../../src/diagnosis/findings';

test('checkThresholds accepts known names and rejects unknown names or bad values with a clear message', () => {
  assert.deepEqual(checkThresholds({ deadFraction: 0.7, explodingRatio: 100 }), { deadFraction: 0.7, explodingRatio: 100 });
  assert.deepEqual(checkThresholds(undefined), {});
  assert.throws(() => checkThresholds({ deadFractoin: 0.7 }), /unknown detector threshold 'deadFractoin'; known: deadFraction/);
  assert.throws(() => checkThresholds({ deadFraction: Number.NaN }), /must be a non-negative number/);
  assert.throws(() => checkThresholds({ deadFraction: -1 }), /must be a non-negative number/);
});

test('check --threshold name=value is parsed into run options, repeatable', () => {
  const parsed = parseCheckArgs(['m.js', '--threshold', 'deadFraction=0.7', '--threshold', 'explodingLossGrowth=1e4']);
  assert.ok(parsed !== 'help');
  assert.deepEqual(parsed.options.thresholds, { deadFraction: 0.7, explodingLossGrowth: 10000 });
  const none = parseCheckArgs(['m.js']);
  assert.ok(none !== 'help' && none.options.thresholds === undefined);
  assert.throws(() => parseCheckArgs(['m.js', '--threshold', 'deadFraction']), /--threshold expects name=number/);
});
