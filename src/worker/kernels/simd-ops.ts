/** Instructions and loop shapes shared by the SIMD kernels' bodies (./simd-channel-bodies.ts, ./simd-grad-bodies.ts). */
import { get, set, simd, tee } from '../wasmEncoding';

export const i32 = (n: number) => [0x41, n]; // small non-negative constants only (< 64)
export const ADD = 0x6a;
export const LOAD = (offset = 0) => simd(0x00, 0, offset);
export const STORE = (offset = 0) => simd(0x0b, 0, offset);
export const F32X4_ADD = simd(0xe4);
export const F32X4_MUL = simd(0xe6);
export const F32X4_SUB = simd(0xe5);
export const F64X2_MUL = simd(0xf2);

export const F32X4_GT = simd(0x44);
export const AND = simd(0x4e);
export const ANDNOT = simd(0x4f);
export const OR = simd(0x50);
export const BITSELECT = simd(0x52);
export const NEG_INFINITY = simd(0x0c, ...[0, 1, 2, 3].flatMap(() => [0, 0, 0x80, 0xff]));

/** Loop body over 16-byte blocks from local `ptr` (param 0 unless given) until local `endLocal`, skipped when empty. */
export const blocks = (endLocal: number, body: number[], ptr = 0) => [
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
export const nextChannel = (k: number, c4: number) => [
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

/** v128.load at local `base` + local `offset`. */
export const loadAt = (base: number, offset: number) => [...get(base), ...get(offset), ADD, ...LOAD()];
/** local `p` += 16: the next block of 4 floats. */
export const advance = (p: number) => [...get(p), ...i32(16), ADD, ...set(p)];
