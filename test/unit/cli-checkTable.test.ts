// The numbers of `normscope check`'s layer table (src/cli/checkTable.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatNumber } from '../../src/cli/checkTable';

test('three significant digits without trailing zeros of the fraction: -100 stays -100, 1.50 becomes 1.5', () => {
  assert.equal(formatNumber(-100), '-100');
  assert.equal(formatNumber(100), '100');
  assert.equal(formatNumber(120), '120');
  assert.equal(formatNumber(1.5), '1.5');
  assert.equal(formatNumber(0.25), '0.25');
  assert.equal(formatNumber(2), '2');
  assert.equal(formatNumber(0.1), '0.1');
  assert.equal(formatNumber(12345), '1.23e+4');
  assert.equal(formatNumber(null), '-');
  assert.equal(formatNumber(0), '0');
});
