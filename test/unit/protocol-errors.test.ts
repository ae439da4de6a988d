// runErrorOf: the one way the host reads a rejection (editor/runs.ts, runner/compare.ts, the CLI).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RunFailedError, runErrorOf } from '../../src/protocol';

test("runErrorOf returns a RunFailedError's RunError as is", () => {
  const error = { code: 'no-norm-at-line', message: 'm.js:3: nothing to compare', file: '/m.js', line: 3 } as const;
  assert.deepEqual(runErrorOf(new RunFailedError(error)), error);
});

test('runErrorOf calls anything else a NormScope bug (internal), keeping its message and stack', () => {
  const bug = new TypeError('x is undefined');
  assert.deepEqual(runErrorOf(bug), { code: 'internal', message: 'x is undefined', stack: bug.stack });
  assert.equal(runErrorOf('a string').code, 'internal');
  assert.equal(runErrorOf('a string').message, 'a string');
  // An object that merely looks like a RunFailedError is not trusted.
  assert.equal(runErrorOf(Object.assign(new Error('fake'), { runError: { code: 'cancelled', message: 'no' } })).code, 'internal');
});
