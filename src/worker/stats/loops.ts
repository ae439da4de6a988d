/**
 * The hot loops of ./scan: passes over a float32 tensor's memory, one per instrumented layer
 * output and gradient every step, so they decide the instrumentation overhead on cpu/wasm.
 *
 * How they are written follows measurements on Node 20 / V8 11 (320k float32 values, the small
 * CNN example's activations per step):
 * - Each loop runs over chunks of at most CHUNK elements in its own small function, its
 *   accumulators loaded from and stored back to the Float64Array `acc`. A loop run once over a
 *   large array is compiled mid-run (on-stack replacement) with float accumulators that start
 *   as constants (0, ±Infinity); that code boxed them as heap numbers on every update and ran
 *   3–5× slower, and code after the loop, never run before, deoptimized on every call. Chunk
 *   functions are called often enough to be compiled whole, and accumulators read from a
 *   Float64Array are plain doubles from the start.
 * - `+(v === 0)` is a branch-free 0/1; `v === 0 ? 1 : 0` compiles to a branch that mispredicts
 *   on ReLU outputs (half zeros) and is 3× slower. min/max by comparison are well-predicted
 *   branches; Math.min/Math.max (−0 and NaN rules) cost 3× more.
 * - Two or four independent accumulators per sum, so the adds do not wait on each other.
 * On the wasm backend the biggest passes run as SIMD on the backend's heap instead (./simd).
 */

import { kernelsFor } from './simd';

const CHUNK = 8192; // even, and a multiple of 4
/** Accumulators carried from chunk to chunk (Σd, Σd for odd i, Σd², Σd² odd, min, max, zeros). */
const acc = new Float64Array(7);

function momentsChunk(x: Float32Array, from: number, to: number, shift: number): void {
  let sumA = acc[0],
    sumB = acc[1],
    sqA = acc[2],
    sqB = acc[3],
    min = acc[4],
    max = acc[5],
    zeros = acc[6];
  for (let i = from; i < to; i += 2) {
    const v = x[i];
    const w = x[i + 1];
    const d = v - shift;
    const e = w - shift;
    sumA += d;
    sumB += e;
    sqA += d * d;
    sqB += e * e;
    if (v < min) min = v;
    if (v > max) max = v;
    if (w < min) min = w;
    if (w > max) max = w;
    zeros += +(v === 0) + +(w === 0);
  }
  acc[0] = sumA;
  acc[1] = sumB;
  acc[2] = sqA;
  acc[3] = sqB;
  acc[4] = min;
  acc[5] = max;
  acc[6] = zeros;
}

/** Results of `shiftedMoments`. */
export interface ShiftedMoments {
  /** Σ (xᵢ − x₀) and Σ (xᵢ − x₀)², in double precision. */
  sum: number;
  squares: number;
  /** By comparison: NaN elements are skipped (see ./scan for tf.min's NaN rule). */
  min: number;
  max: number;
  /** Σᵢ [xᵢ = 0] */
  zeros: number;
}

/**
 * One pass over a non-empty x, shifted by its first element (which keeps the one-pass variance
 * accurate for float32 data). Element 0 adds 0 to both sums and seeds min/max, so with an odd
 * length the pairs start at 1 and only its zero is counted apart.
 */
export function shiftedMoments(x: Float32Array): ShiftedMoments {
  const n = x.length;
  const shift = x[0];
  const kernels = kernelsFor(x);
  if (kernels) {
    // SIMD over whole groups of 4 (element 0 included: it adds 0), the last 0–3 here.
    const whole = n - (n % 4);
    kernels.moments(x.byteOffset, x.byteOffset + 4 * whole, shift);
    let sum = kernels.sum.value as number,
      squares = kernels.squaresSum.value as number;
    let min = kernels.min.value as number,
      max = kernels.max.value as number,
      zeros = kernels.zeros.value as number;
    for (let i = whole; i < n; i++) {
      const v = x[i];
      sum += v - shift;
      squares += (v - shift) * (v - shift);
      if (v < min) min = v;
      if (v > max) max = v;
      zeros += +(v === 0);
    }
    return { sum, squares, min, max, zeros };
  }
  const start = n & 1;
  acc.fill(0);
  acc[4] = shift;
  acc[5] = shift;
  acc[6] = start * +(shift === 0);
  for (let from = start; from < n; from += CHUNK) momentsChunk(x, from, Math.min(n, from + CHUNK), shift);
  return { sum: acc[0] + acc[1], squares: acc[2] + acc[3], min: acc[4], max: acc[5], zeros: acc[6] };
}

function squaresChunk(x: Float32Array, from: number, to: number): void {
  let a = acc[0],
    b = acc[1],
    c = acc[2],
    d = acc[3];
  for (let i = from; i < to; i += 4) {
    const p = x[i],
      q = x[i + 1],
      r = x[i + 2],
      s = x[i + 3];
    a += p * p;
    b += q * q;
    c += r * r;
    d += s * s;
  }
  acc[0] = a;
  acc[1] = b;
  acc[2] = c;
  acc[3] = d;
}

/** Σᵢ xᵢ². */
export function sumOfSquares(x: Float32Array): number {
  const n = x.length;
  const whole = n - (n % 4);
  const kernels = kernelsFor(x);
  let total: number;
  if (kernels) {
    kernels.squares(x.byteOffset, x.byteOffset + 4 * whole);
    total = kernels.sum.value as number;
  } else {
    acc.fill(0);
    for (let from = 0; from < whole; from += CHUNK) squaresChunk(x, from, Math.min(whole, from + CHUNK));
    total = acc[0] + acc[1] + (acc[2] + acc[3]);
  }
  for (let i = whole; i < n; i++) total += x[i] * x[i];
  return total;
}

function distanceChunk(a: Float32Array, b: Float32Array, from: number, to: number): void {
  let s = acc[0],
    t = acc[1],
    q = acc[2],
    r = acc[3];
  for (let i = from; i < to; i += 2) {
    const v = a[i];
    const w = a[i + 1];
    const d = v - b[i];
    const e = w - b[i + 1];
    s += d * d;
    t += e * e;
    q += v * v;
    r += w * w;
  }
  acc[0] = s;
  acc[1] = t;
  acc[2] = q;
  acc[3] = r;
}

/** Σᵢ (aᵢ − bᵢ)² and Σᵢ aᵢ² in one pass (a and b of equal length). */
export function distanceAndSquares(a: Float32Array, b: Float32Array): { distance: number; squares: number } {
  const n = a.length;
  const kernels = kernelsFor(a);
  if (kernels && kernelsFor(b)) {
    const whole = n - (n % 4);
    kernels.distance(a.byteOffset, a.byteOffset + 4 * whole, b.byteOffset - a.byteOffset);
    let distance = kernels.sum.value as number,
      squares = kernels.squaresSum.value as number;
    for (let i = whole; i < n; i++) {
      distance += (a[i] - b[i]) * (a[i] - b[i]);
      squares += a[i] * a[i];
    }
    return { distance, squares };
  }
  const even = n - (n % 2);
  acc.fill(0);
  for (let from = 0; from < even; from += CHUNK) distanceChunk(a, b, from, Math.min(even, from + CHUNK));
  let distance = acc[0] + acc[1];
  let squares = acc[2] + acc[3];
  if (even < n) {
    const v = a[even];
    distance += (v - b[even]) * (v - b[even]);
    squares += v * v;
  }
  return { distance, squares };
}

function saturatedChunk(x: Float32Array, from: number, to: number, low: number, high: number): void {
  let count = acc[0];
  for (let i = from; i < to; i++) {
    const v = x[i];
    count += +(v >= high) + +(v <= low); // exclusive: low < high
  }
  acc[0] = count;
}

/** Σᵢ [xᵢ ≥ high or xᵢ ≤ low]. */
export function countOutside(x: Float32Array, low: number, high: number): number {
  acc[0] = 0;
  for (let from = 0; from < x.length; from += CHUNK) saturatedChunk(x, from, Math.min(x.length, from + CHUNK), low, high);
  return acc[0];
}

/** Σᵢ [xᵢ finite]; run only when some element is not (rare), so a plain loop. */
export function countFinite(x: Float32Array): number {
  let finite = 0;
  for (let i = 0; i < x.length; i++) finite += +(x[i] - x[i] === 0); // 0 for NaN and ±Infinity
  return finite;
}

export function hasNaN(x: Float32Array): boolean {
  for (let i = 0; i < x.length; i++) if (Number.isNaN(x[i])) return true;
  return false;
}

/**
 * Units c of x viewed as rows × channels with maxᵣ x[r, c] ≤ 0. A unit is alive as soon as one
 * value is not ≤ 0 (a NaN makes the max NaN, which is not ≤ 0, as with tf.lessEqual), so the scan
 * stops once every unit was seen alive: in a healthy layer within the first rows; only layers
 * with dead units are read to the end.
 */
export function countDeadUnits(x: Float32Array, channels: number): number {
  const alive = new Uint8Array(channels);
  let remaining = channels;
  for (let row = 0; row < x.length && remaining > 0; row += channels) {
    for (let c = 0; c < channels; c++) {
      if (alive[c] === 0 && !(x[row + c] <= 0)) {
        alive[c] = 1;
        remaining--;
      }
    }
  }
  return remaining;
}
