/**
 * Deterministic randomness for a run. tfjs seeds every initializer and random op that is not given
 * an explicit seed from `Math.random()`, so replacing it while the model is built and the data is
 * made gives the same weights and batches for the same `--seed`.
 */

/** mulberry32: a small, fast 32-bit PRNG; good enough for initial weights and synthetic data. */
export function seededRandom(seed: number): () => number {
  let state = Math.floor(seed) >>> 0 || 0x9e3779b9;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Runs `body` with `Math.random` seeded, restoring the real one afterwards (also on throw). */
export async function withSeededRandom<T>(seed: number, body: () => Promise<T>): Promise<T> {
  const original = Math.random;
  Math.random = seededRandom(seed);
  try {
    return await body();
  } finally {
    Math.random = original;
  }
}
