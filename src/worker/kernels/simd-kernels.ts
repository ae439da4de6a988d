/**
 * Memory-bound passes of a CNN training step as WebAssembly SIMD that runs in the wasm backend's own memory
 * (the module imports it, so tensors are read and written where they live, 4 floats per instruction). Stock
 * wasm runs these with per-element index arithmetic (batch norm's broadcasts and statistics: 0.5–1 ms each
 * for [32,28,28,8], ten times a plain elementwise op) or has none (MaxPoolGrad ran as a JS loop).
 *   affine(x, out, end, C·4, a, b):   out = x·a[c] + b[c]
 *   colsum(x, end, C·4, acc):        acc[c] += Σ rows x[·, c], in float64 (acc: C doubles)
 *   maxPoolGrad2x2(x, dy, dx, dyEnd, C·4, W·C·4): one row of 2x2 stride-2 windows: dx gets dy at each
 *     window's first maximum (row-major order; NaN never wins; a window of -Infinity gets nothing)
 *   bnGradSums(dy, x, dyEnd, C·4, mean, acc): per channel Σdy and Σdy·(x − mean[c]) in float64 (acc: 4 doubles
 *     per 4 channels: Σdy of lanes 0-1, 2-3, then Σdy·(x − mean) of lanes 0-1, 2-3), for the batch-norm gradient
 *   fillRows(out, end, C·4, v):      out = v[c] in every row (a channel vector tiled to a full activation)
 *   adam(w, g, m, v, w', m', v', bytes, β1, 1−β1, β2, 1−β2, 1/(1−β1ᵗ), 1/(1−β2ᵗ), lr, ε): Adam's update of one
 *     variable (the first `bytes`, a multiple of 16), in float32 as stock tfjs computes it
 * C must be a multiple of 4 (the callers check); pointers are byte addresses, ends exclusive.
 * Hand-assembled (no toolchain, no binary to ship), like ../stats/simd.ts.
 */

import {
  F32X4_EQ,
  F32X4_PMAX,
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

interface Exports {
  affine(x: number, out: number, end: number, c4: number, a: number, b: number): void;
  colsum(x: number, end: number, c4: number, acc: number): void;
  maxPoolGrad2x2(x: number, dy: number, dx: number, dyEnd: number, c4: number, w4: number): void;
  bnGradSums(dy: number, x: number, dyEnd: number, c4: number, mean: number, acc: number): void;
  fillRows(out: number, end: number, c4: number, v: number): void;
  adam(...args: number[]): void;
}

const i32 = (n: number) => [0x41, n]; // small non-negative constants only (< 64)
const ADD = 0x6a;
const LOAD = (offset = 0) => simd(0x00, 0, offset);
const STORE = (offset = 0) => simd(0x0b, 0, offset);
const F32X4_ADD = simd(0xe4);
const F32X4_MUL = simd(0xe6);
const F32X4_SUB = simd(0xe5);
const F64X2_MUL = simd(0xf2);

const F32X4_GT = simd(0x44);
const AND = simd(0x4e);
const ANDNOT = simd(0x4f);
const OR = simd(0x50);
const BITSELECT = simd(0x52);
const NEG_INFINITY = simd(0x0c, ...[0, 1, 2, 3].flatMap(() => [0, 0, 0x80, 0xff]));

/** Loop body over 16-byte blocks from local `ptr` (param 0 unless given) until local `endLocal`, skipped when empty. */
const blocks = (endLocal: number, body: number[], ptr = 0) => [
  0x02,
  0x40,
  ...get(ptr),
  ...get(endLocal),
  0x4f,
  0x0d,
  0, // block; x >= end: out
  0x03,
  0x40,
  ...body,
  ...get(ptr),
  ...i32(16),
  ADD,
  ...tee(ptr),
  ...get(endLocal),
  0x49,
  0x0d,
  0, // x += 16; x < end: again
  0x0b,
  0x0b,
];
/** k = (k + 16 == c4) ? 0 : k + 16: the byte offset within one row of C floats. */
const nextChannel = (k: number, c4: number) => [
  ...i32(0),
  ...get(k),
  ...i32(16),
  ADD,
  ...tee(k),
  ...get(k),
  ...get(c4),
  0x46,
  0x1b,
  ...set(k),
];

// affine(x 0, out 1, end 2, c4 3, a 4, b 5); local 6 k
const affineBody = [
  ...vec([[1, I32]]),
  ...blocks(2, [
    ...get(1),
    ...get(0),
    ...LOAD(),
    ...get(4),
    ...get(6),
    ADD,
    ...LOAD(),
    ...F32X4_MUL,
    ...get(5),
    ...get(6),
    ADD,
    ...LOAD(),
    ...F32X4_ADD,
    ...STORE(),
    ...get(1),
    ...i32(16),
    ADD,
    ...set(1),
    ...nextChannel(6, 3),
  ]),
  0x0b,
];

// fillRows(out 0, end 1, c4 2, v 3); local 4 k
const fillRowsBody = [
  ...vec([[1, I32]]),
  ...blocks(1, [...get(0), ...get(3), ...get(4), ADD, ...LOAD(), ...STORE(), ...nextChannel(4, 2)]),
  0x0b,
];

// colsum(x 0, end 1, c4 2, acc 3); locals 4 k, 5 v, 6 address of the two f64x2 accumulators of block k
const colsumBody = [
  ...vec([
    [1, I32],
    [1, V128],
    [1, I32],
  ]),
  ...blocks(1, [
    ...get(0),
    ...LOAD(),
    ...set(5),
    ...get(3),
    ...get(4),
    ...get(4),
    ADD,
    ADD,
    ...tee(6), // acc + 2k
    ...get(6),
    ...LOAD(),
    ...get(5),
    ...PROMOTE_LOW,
    ...F64X2_ADD,
    ...STORE(),
    ...get(6),
    ...get(6),
    ...LOAD(16),
    ...get(5),
    ...get(5),
    ...HIGH_HALF,
    ...PROMOTE_LOW,
    ...F64X2_ADD,
    ...STORE(16),
    ...nextChannel(4, 2),
  ]),
  0x0b,
];

// maxPoolGrad2x2(x 0, dy 1, dx 2, end 3, c4 4, w4 5); locals 6 k; v128: 7–10 the window's four values
// (NaN replaced by -Infinity), 11 max, 12 max > -Infinity, 13 mask so far, 14 dy, 15 -Infinity
const at = (base: number, ...offsets: number[]) => [...get(base), ...offsets.flatMap((o) => [...get(o), ADD])];
const cleaned = (local: number, address: number[]) => [
  ...address,
  ...LOAD(),
  ...tee(local),
  ...get(15),
  ...get(local),
  ...get(local),
  ...F32X4_EQ,
  ...BITSELECT,
  ...set(local),
];
/** The mask of window value `v` (its lanes equal to the max and not taken by an earlier one), stored as dy & mask. */
const route = (v: number, first: boolean, address: number[]) => [
  ...address,
  ...get(14),
  ...get(v),
  ...get(11),
  ...F32X4_EQ,
  ...get(12),
  ...AND,
  ...(first ? [] : [...get(13), ...ANDNOT]),
  ...tee(v), // v is not needed any more: reuse it for its mask
  ...(first ? [...get(v), ...set(13)] : [...get(13), ...get(v), ...OR, ...set(13)]),
  ...AND,
  ...STORE(),
];
const maxPoolGradBody = [
  ...vec([
    [1, I32],
    [9, V128],
  ]),
  ...NEG_INFINITY,
  ...set(15),
  ...blocks(
    3,
    [
      ...cleaned(7, at(0)),
      ...cleaned(8, at(0, 4)),
      ...cleaned(9, at(0, 5)),
      ...cleaned(10, at(0, 5, 4)),
      ...get(7),
      ...get(8),
      ...F32X4_PMAX,
      ...get(9),
      ...get(10),
      ...F32X4_PMAX,
      ...F32X4_PMAX,
      ...tee(11),
      ...get(15),
      ...F32X4_GT,
      ...set(12),
      ...get(1),
      ...LOAD(),
      ...set(14),
      ...route(7, true, at(2)),
      ...route(8, false, at(2, 4)),
      ...route(9, false, at(2, 5)),
      ...route(10, false, at(2, 5, 4)),
      // x += 16, dx += 16, k += 16; at the end of a window's channels skip its second column too
      ...[0, 2].flatMap((p) => [...get(p), ...i32(16), ADD, ...set(p)]),
      ...get(6),
      ...i32(16),
      ADD,
      ...tee(6),
      ...get(4),
      0x46,
      0x04,
      0x40,
      ...i32(0),
      ...set(6),
      ...[0, 2].flatMap((p) => [...get(p), ...get(4), ADD, ...set(p)]),
      0x0b,
    ],
    1,
  ),
  0x0b,
];

// bnGradSums(dy 0, x 1, end 2, c4 3, mean 4, acc 5); locals 6 k, 7 address of block k's four f64x2
// accumulators (Σdy low/high lanes, Σdy·(x−mean) low/high), 8 dy, 9 x − mean
const low = (v: number) => [...get(v), ...PROMOTE_LOW];
const high = (v: number) => [...get(v), ...get(v), ...HIGH_HALF, ...PROMOTE_LOW];
const accumulate = (offset: number, value: number[]) => [...get(7), ...get(7), ...LOAD(offset), ...value, ...F64X2_ADD, ...STORE(offset)];
const bnGradSumsBody = [
  ...vec([
    [2, I32],
    [2, V128],
  ]),
  ...blocks(2, [
    ...get(0),
    ...LOAD(),
    ...set(8),
    ...get(1),
    ...LOAD(),
    ...get(4),
    ...get(6),
    ADD,
    ...LOAD(),
    ...F32X4_SUB,
    ...set(9),
    ...get(5),
    ...get(6),
    ...i32(2),
    0x74, // i32.shl
    ADD,
    ...set(7),
    ...accumulate(0, low(8)),
    ...accumulate(16, high(8)),
    ...accumulate(32, [...low(8), ...low(9), ...F64X2_MUL]),
    ...accumulate(48, [...high(8), ...high(9), ...F64X2_MUL]),
    ...get(1),
    ...i32(16),
    ADD,
    ...set(1),
    ...nextChannel(6, 3),
  ]),
  0x0b,
];

// adam(w 0, g 1, m 2, v 3, w2 4, m2 5, v2 6, bytes 7, then f32: β1 8, 1−β1 9, β2 10, 1−β2 11, c1 12, c2 13, lr 14,
// ε 15); locals 16 i (byte offset), v128: 17–24 the constants splatted, 25 g, 26 m', 27 v'
const F32 = 0x7d;
const SPLAT = simd(0x13); // f32x4.splat
const SQRT = simd(0xe3);
const DIV = simd(0xe7);
const at_i = (base: number) => [...get(base), ...get(16), ADD];
const adamBody = [
  ...vec([
    [1, I32],
    [11, V128],
  ]),
  ...[8, 9, 10, 11, 12, 13, 14, 15].flatMap((p) => [...get(p), ...SPLAT, ...set(p + 9)]),
  ...blocks(
    7,
    [
      ...at_i(1),
      ...LOAD(),
      ...set(25),
      // m' = β1·m + (1−β1)·g
      ...at_i(5),
      ...get(17),
      ...at_i(2),
      ...LOAD(),
      ...F32X4_MUL,
      ...get(18),
      ...get(25),
      ...F32X4_MUL,
      ...F32X4_ADD,
      ...tee(26),
      ...STORE(),
      // v' = β2·v + (1−β2)·g²
      ...at_i(6),
      ...get(19),
      ...at_i(3),
      ...LOAD(),
      ...F32X4_MUL,
      ...get(20),
      ...get(25),
      ...get(25),
      ...F32X4_MUL,
      ...F32X4_MUL,
      ...F32X4_ADD,
      ...tee(27),
      ...STORE(),
      // w' = w − lr·(m'·c1) / (√(v'·c2) + ε)
      ...at_i(4),
      ...at_i(0),
      ...LOAD(),
      ...get(23),
      ...get(26),
      ...get(21),
      ...F32X4_MUL,
      ...F32X4_MUL,
      ...get(27),
      ...get(22),
      ...F32X4_MUL,
      ...SQRT,
      ...get(24),
      ...F32X4_ADD,
      ...DIV,
      ...F32X4_SUB,
      ...STORE(),
    ],
    16,
  ),
  0x0b,
];

const MODULE = new Uint8Array([
  ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
  ...section(
    1,
    vec([
      [0x60, ...vec(new Array(6).fill([I32])), 0],
      [0x60, ...vec(new Array(4).fill([I32])), 0],
      [0x60, ...vec([...new Array(8).fill([I32]), ...new Array(8).fill([F32])]), 0],
    ]),
  ),
  ...section(2, vec([[...name('env'), ...name('memory'), 0x02, 0x00, 0x01]])), // memory, min 1 page
  ...section(3, vec([[0], [1], [0], [0], [1], [2]])),
  ...section(
    7,
    vec([
      [...name('affine'), 0x00, 0],
      [...name('colsum'), 0x00, 1],
      [...name('maxPoolGrad2x2'), 0x00, 2],
      [...name('bnGradSums'), 0x00, 3],
      [...name('fillRows'), 0x00, 4],
      [...name('adam'), 0x00, 5],
    ]),
  ),
  ...section(
    10,
    vec([affineBody, colsumBody, maxPoolGradBody, bnGradSumsBody, fillRowsBody, adamBody].map((body) => [...uleb(body.length), ...body])),
  ),
]);

const instances = new WeakMap<WebAssembly.Memory, Exports | null>();

/** The routines bound to `memory`, or null where this runtime cannot (no SIMD, shared memory). */
export function kernelRoutines(memory: WebAssembly.Memory): Exports | null {
  if (!instances.has(memory)) {
    try {
      instances.set(memory, new WebAssembly.Instance(new WebAssembly.Module(MODULE), { env: { memory } }).exports as unknown as Exports);
    } catch {
      instances.set(memory, null);
    }
  }
  return instances.get(memory) ?? null;
}
