/** Bodies of the gradient and update SIMD routines (see ./simd-kernels.ts): maxPoolGrad2x2 and adam. */
import { F32X4_EQ, F32X4_PMAX, I32, V128, get, set, simd, tee, vec } from '../wasmEncoding';
import {
  ADD,
  AND,
  ANDNOT,
  BITSELECT,
  F32X4_ADD,
  F32X4_GT,
  F32X4_MUL,
  F32X4_SUB,
  LOAD,
  NEG_INFINITY,
  OR,
  STORE,
  blocks,
  i32,
} from './simd-ops';

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
export const maxPoolGradBody = [
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

// adam(w 0, g 1, m 2, v 3, w2 4, m2 5, v2 6, bytes 7, then f32: β1 8, 1−β1 9, β2 10, 1−β2 11, c1 12, c2 13, lr 14,
// ε 15); locals 16 i (byte offset), v128: 17–24 the constants splatted, 25 g, 26 m', 27 v'

const SPLAT = simd(0x13); // f32x4.splat
const SQRT = simd(0xe3);
const DIV = simd(0xe7);
const at_i = (base: number) => [...get(base), ...get(16), ADD];
export const adamBody = [
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
