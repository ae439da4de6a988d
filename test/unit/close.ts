/** The one closeness check of the unit tests (formulas, scans, hand-checked training values). */
import assert from 'node:assert/strict';

/**
 * Fails unless `actual` is a number within `tolerance` of `expected`: absolutely, or relative to max(1, |expected|)
 * for values whose size varies (sums over long arrays).
 */
export function assertClose(
  actual: number | null | undefined,
  expected: number,
  what: string,
  tolerance = 1e-5,
  scale: 'absolute' | 'relative' = 'absolute',
): void {
  const allowed = scale === 'relative' ? tolerance * Math.max(1, Math.abs(expected)) : tolerance;
  assert.ok(
    typeof actual === 'number' && Math.abs(actual - expected) <= allowed,
    `${what}: expected ${expected} ± ${allowed}, got ${actual}`,
  );
}
