/** Bodies of the per-channel SIMD routines (see ./simd-kernels.ts): affine, fillRows, colsum, bnGradSums. */
import { F64X2_ADD, HIGH_HALF, I32, PROMOTE_LOW, V128, get, set, tee, vec } from '../wasmEncoding';
import { ADD, advance, blocks, F32X4_ADD, F32X4_MUL, F32X4_SUB, F64X2_MUL, i32, LOAD, loadAt, nextChannel, STORE } from './simd-ops';

// affine(x 0, out 1, end 2, c4 3, a 4, b 5); local 6 k
export const affineBody = [
  ...vec([[1, I32]]),
  ...blocks(2, [
    ...get(1),
    ...get(0),
    ...LOAD(),
    ...loadAt(4, 6),
    ...F32X4_MUL,
    ...loadAt(5, 6),
    ...F32X4_ADD,
    ...STORE(),
    ...advance(1),
    ...nextChannel(6, 3),
  ]),
  0x0b,
];

// fillRows(out 0, end 1, c4 2, v 3); local 4 k
export const fillRowsBody = [
  ...vec([[1, I32]]),
  ...blocks(1, [...get(0), ...get(3), ...get(4), ADD, ...LOAD(), ...STORE(), ...nextChannel(4, 2)]),
  0x0b,
];

// colsum(x 0, end 1, c4 2, acc 3); locals 4 k, 5 v, 6 address of the two f64x2 accumulators of block k
export const colsumBody = [
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

// bnGradSums(dy 0, x 1, end 2, c4 3, mean 4, acc 5); locals 6 k, 7 address of block k's four f64x2
// accumulators (Σdy low/high lanes, Σdy·(x−mean) low/high), 8 dy, 9 x − mean
const low = (v: number) => [...get(v), ...PROMOTE_LOW];
const high = (v: number) => [...get(v), ...get(v), ...HIGH_HALF, ...PROMOTE_LOW];
const accumulate = (offset: number, value: number[]) => [...get(7), ...get(7), ...LOAD(offset), ...value, ...F64X2_ADD, ...STORE(offset)];
export const bnGradSumsBody = [
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
    ...loadAt(4, 6),
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
    ...advance(1),
    ...nextChannel(6, 3),
  ]),
  0x0b,
];
