/**
 * The part of the WebAssembly JavaScript API the worker uses (simd.ts, instrument/meters.ts). Node has the
 * `WebAssembly` global, but TypeScript declares it only in lib.dom (and @types/node only from v22), and the
 * Node code is checked without DOM types.
 */
declare namespace WebAssembly {
  class Memory {
    constructor(descriptor: { initial: number; maximum?: number; shared?: boolean });
    readonly buffer: ArrayBuffer;
    grow(delta: number): number;
  }
  class Global {
    value: number;
  }
  class Module {
    constructor(bytes: ArrayBufferView | ArrayBuffer);
  }
  class Instance {
    constructor(module: Module, imports?: Record<string, Record<string, unknown>>);
    readonly exports: Record<string, unknown>;
  }
}
