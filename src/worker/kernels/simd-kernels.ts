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

import { F32, I32, name, section, uleb, vec } from '../wasmEncoding';
import { adamBody, maxPoolGradBody } from './simd-grad-bodies';
import { affineBody, bnGradSumsBody, colsumBody, fillRowsBody } from './simd-channel-bodies';

interface Exports {
  affine(x: number, out: number, end: number, c4: number, a: number, b: number): void;
  colsum(x: number, end: number, c4: number, acc: number): void;
  maxPoolGrad2x2(x: number, dy: number, dx: number, dyEnd: number, c4: number, w4: number): void;
  bnGradSums(dy: number, x: number, dyEnd: number, c4: number, mean: number, acc: number): void;
  fillRows(out: number, end: number, c4: number, v: number): void;
  adam(...args: number[]): void;
}

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
