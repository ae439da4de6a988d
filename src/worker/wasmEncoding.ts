/**
 * Helpers to assemble small WebAssembly modules by hand (binary format, MVP + SIMD opcodes): the SIMD
 * statistics (./stats/simd.ts) and kernels (./kernels/simd-kernels.ts) that run in the wasm backend's
 * memory. No toolchain and no binary file to ship.
 */
export const V128 = 0x7b;
export const F64 = 0x7c;
export const I32 = 0x7f;

export const uleb = (n: number): number[] => {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n) byte |= 0x80;
    out.push(byte);
  } while (n);
  return out;
};
export const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
export const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
export const name = (s: string): number[] => [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];
export const simd = (op: number, ...rest: number[]): number[] => [0xfd, ...uleb(op), ...rest];
export const get = (i: number) => [0x20, i];
export const set = (i: number) => [0x21, i];
export const tee = (i: number) => [0x22, i];

/** i8x16.shuffle: lanes 2,3 → 0,1 (the high half of an f32x4, for promote_low). */
export const HIGH_HALF = simd(0x0d, 8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15);
export const PROMOTE_LOW = simd(0x5f); // f64x2.promote_low_f32x4
export const F64X2_ADD = simd(0xf0);
export const F32X4_PMAX = simd(0xeb);
export const F32X4_EQ = simd(0x41);
export const F32 = 0x7d;
