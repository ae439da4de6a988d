/**
 * The largest passes of ./loops (moments of every layer output, squared norm of every output
 * and weight gradient, distance of the weights to their value before the update) as WebAssembly
 * SIMD, run directly on the wasm backend's heap: the module
 * imports that backend's memory, so a tensor is scanned where it lives, 4 floats per
 * instruction, with no copy. Same arithmetic as the JavaScript loops: each float is widened to
 * double before it is shifted, squared or added (f64x2.promote_low_f32x4), so only the order
 * of the additions differs. min/max are by comparison (f32x4.pmin/pmax: one instruction each;
 * f32x4.min/max's NaN rules made the loop 5× slower), skipping NaN as the JavaScript loops do;
 * ./scan restores tf.min's NaN.
 *
 * The module is ~300 bytes assembled below (no toolchain, no binary file to ship). A backend
 * whose memory cannot be imported (e.g. shared memory of the threaded build) keeps the
 * JavaScript loops.
 */

import {
  F32X4_EQ,
  F32X4_PMAX,
  F64,
  F64X2_ADD,
  HIGH_HALF,
  I32,
  PROMOTE_LOW,
  V128,
  get,
  name,
  section,
  set,
  simd,
  tee,
  uleb,
  vec,
} from '../wasmEncoding';

/** Results of the last call, in the module's exported globals. */
interface Exports {
  moments(ptr: number, end: number, shift: number): void;
  squares(ptr: number, end: number): void;
  /** Σ (aᵢ − bᵢ)² → sum, Σ aᵢ² → squaresSum, for a at [ptr, end) and b at ptr + offset. */
  distance(ptr: number, end: number, offset: number): void;
  sum: WebAssembly.Global;
  squaresSum: WebAssembly.Global;
  min: WebAssembly.Global;
  max: WebAssembly.Global;
  zeros: WebAssembly.Global;
}

// --- encoding helpers (../wasmEncoding.ts has the shared ones) ---
const setGlobal = (i: number) => [0x24, i];
const LOAD = simd(0x00, 0, 0); // v128.load, align 1, offset 0 (tensors need not be 16-byte aligned)
const F64X2_SUB = simd(0xf1),
  F64X2_MUL = simd(0xf2);
const F32X4_PMIN = simd(0xea),
  I32X4_SUB = simd(0xb1);
const ZERO_V128 = simd(0x0c, ...new Array(16).fill(0));
const lane = (extract: number, i: number) => simd(extract, i);
const F64_LANE = 0x21,
  F32_LANE = 0x1f,
  I32_LANE = 0x1b;

/** `ptr += 16; if (ptr < end) continue` around `body`, skipped when ptr ≥ end (params 0 and 1). */
const loop = (body: number[]): number[] => [
  0x02,
  0x40,
  ...get(0),
  ...get(1),
  0x4f,
  0x0d,
  0, // block; if ptr >= end: br out
  0x03,
  0x40,
  ...body,
  ...get(0),
  0x41,
  16,
  0x6a,
  ...tee(0),
  ...get(1),
  0x49,
  0x0d,
  0,
  0x0b, // loop … br_if loop
  0x0b,
];
/** Sum of the two lanes of the f64x2 in local `l`. */
const sumLanes = (l: number) => [...get(l), ...lane(F64_LANE, 0), ...get(l), ...lane(F64_LANE, 1), 0xa0];

// moments(ptr, end, shift): locals 3 v, 4 dLow, 5 dHigh, 6/7 Σd, 8/9 Σd², 10 min, 11 max, 12 zeros, 13 shift×2
const momentsBody = [
  ...vec([[11, V128]]),
  ...get(2),
  ...simd(0x14),
  ...set(13), // f64x2.splat(shift)
  ...get(2),
  0xb6,
  ...simd(0x13),
  ...tee(10),
  ...set(11), // min = max = f32x4.splat(f32(shift))
  ...loop([
    ...get(0),
    ...LOAD,
    ...set(3),
    ...get(3),
    ...PROMOTE_LOW,
    ...get(13),
    ...F64X2_SUB,
    ...set(4),
    ...get(3),
    ...get(3),
    ...HIGH_HALF,
    ...PROMOTE_LOW,
    ...get(13),
    ...F64X2_SUB,
    ...set(5),
    ...get(6),
    ...get(4),
    ...F64X2_ADD,
    ...set(6),
    ...get(7),
    ...get(5),
    ...F64X2_ADD,
    ...set(7),
    ...get(8),
    ...get(4),
    ...get(4),
    ...F64X2_MUL,
    ...F64X2_ADD,
    ...set(8),
    ...get(9),
    ...get(5),
    ...get(5),
    ...F64X2_MUL,
    ...F64X2_ADD,
    ...set(9),
    ...get(10),
    ...get(3),
    ...F32X4_PMIN,
    ...set(10), // v < min ? v : min
    ...get(11),
    ...get(3),
    ...F32X4_PMAX,
    ...set(11),
    ...get(12),
    ...get(3),
    ...ZERO_V128,
    ...F32X4_EQ,
    ...I32X4_SUB,
    ...set(12), // eq lanes are −1
  ]),
  ...get(6),
  ...get(7),
  ...F64X2_ADD,
  ...set(4),
  ...sumLanes(4),
  ...setGlobal(0),
  ...get(8),
  ...get(9),
  ...F64X2_ADD,
  ...set(4),
  ...sumLanes(4),
  ...setGlobal(1),
  ...[0, 1, 2, 3].flatMap((i) => [...get(10), ...lane(F32_LANE, i), ...(i ? [0x96] : [])]),
  0xbb,
  ...setGlobal(2), // f32.min, f64.promote
  ...[0, 1, 2, 3].flatMap((i) => [...get(11), ...lane(F32_LANE, i), ...(i ? [0x97] : [])]),
  0xbb,
  ...setGlobal(3), // f32.max
  ...[0, 1, 2, 3].flatMap((i) => [...get(12), ...lane(I32_LANE, i), ...(i ? [0x6a] : [])]),
  0xb8,
  ...setGlobal(4), // i32.add, f64.convert_u
  0x0b,
];

// squares(ptr, end): locals 2 v, 3/4 Σx² (low/high lanes), 5 scratch
const squaresBody = [
  ...vec([[4, V128]]),
  ...loop([
    ...get(0),
    ...LOAD,
    ...tee(2),
    ...PROMOTE_LOW,
    ...tee(5),
    ...get(5),
    ...F64X2_MUL,
    ...get(3),
    ...F64X2_ADD,
    ...set(3),
    ...get(2),
    ...get(2),
    ...HIGH_HALF,
    ...PROMOTE_LOW,
    ...tee(5),
    ...get(5),
    ...F64X2_MUL,
    ...get(4),
    ...F64X2_ADD,
    ...set(4),
  ]),
  ...get(3),
  ...get(4),
  ...F64X2_ADD,
  ...set(5),
  ...sumLanes(5),
  ...setGlobal(0),
  0x0b,
];

// distance(ptr, end, offset): locals 3 a, 4 b, 5 d, 6/7 Σd² (low/high lanes), 8/9 Σa², 10 a's lanes as f64x2
/** Lanes 0,1 (or 2,3 when `high`) of the f32x4 in local `l`, widened to f64x2. */
const widened = (l: number, high: boolean) => [...get(l), ...(high ? [...get(l), ...HIGH_HALF] : []), ...PROMOTE_LOW];
const distanceHalf = (high: boolean, dSum: number, aSum: number) => [
  ...widened(3, high),
  ...tee(10),
  ...widened(4, high),
  ...F64X2_SUB,
  ...tee(5),
  ...get(5),
  ...F64X2_MUL,
  ...get(dSum),
  ...F64X2_ADD,
  ...set(dSum),
  ...get(10),
  ...get(10),
  ...F64X2_MUL,
  ...get(aSum),
  ...F64X2_ADD,
  ...set(aSum),
];
const distanceBody = [
  ...vec([[8, V128]]),
  ...loop([
    ...get(0),
    ...LOAD,
    ...set(3),
    ...get(0),
    ...get(2),
    0x6a,
    ...LOAD,
    ...set(4), // i32.add: b's address
    ...distanceHalf(false, 6, 8),
    ...distanceHalf(true, 7, 9),
  ]),
  ...get(6),
  ...get(7),
  ...F64X2_ADD,
  ...set(5),
  ...sumLanes(5),
  ...setGlobal(0),
  ...get(8),
  ...get(9),
  ...F64X2_ADD,
  ...set(5),
  ...sumLanes(5),
  ...setGlobal(1),
  0x0b,
];

const GLOBALS = ['sum', 'squaresSum', 'min', 'max', 'zeros'];
const MODULE = new Uint8Array([
  0x00,
  0x61,
  0x73,
  0x6d,
  0x01,
  0x00,
  0x00,
  0x00,
  ...section(
    1,
    vec([
      [0x60, ...vec([[I32], [I32], [F64]]), 0],
      [0x60, ...vec([[I32], [I32]]), 0],
      [0x60, ...vec([[I32], [I32], [I32]]), 0],
    ]),
  ),
  ...section(2, vec([[...name('env'), ...name('memory'), 0x02, 0x00, 0x01]])), // memory, min 1 page, no max
  ...section(3, vec([[0], [1], [2]])),
  ...section(6, vec(GLOBALS.map(() => [F64, 0x01, 0x44, 0, 0, 0, 0, 0, 0, 0, 0, 0x0b]))), // mut f64 = 0
  ...section(
    7,
    vec([
      [...name('moments'), 0x00, 0],
      [...name('squares'), 0x00, 1],
      [...name('distance'), 0x00, 2],
      ...GLOBALS.map((g, i) => [...name(g), 0x03, i]),
    ]),
  ),
  ...section(10, vec([momentsBody, squaresBody, distanceBody].map((body) => [...uleb(body.length), ...body]))),
]);

let attached: { memory: WebAssembly.Memory; exports: Exports } | null = null;

/**
 * Scans float arrays that live in `memory` with SIMD from now on. Returns false (and changes
 * nothing) when this runtime cannot: no SIMD, or a memory the module cannot import.
 */
export function attachMemory(memory: WebAssembly.Memory): boolean {
  if (attached?.memory === memory) return true;
  try {
    const instance = new WebAssembly.Instance(new WebAssembly.Module(MODULE), { env: { memory } });
    attached = { memory, exports: instance.exports as unknown as Exports };
    return true;
  } catch {
    return false;
  }
}

/** For tests: back to the JavaScript loops only. */
export function detachMemory(): void {
  attached = null;
}

/** The SIMD kernels if x lives in the attached memory (x.byteOffset is then its address). */
export function kernelsFor(x: Float32Array): Exports | null {
  return attached !== null && x.buffer === attached.memory.buffer ? attached.exports : null;
}
