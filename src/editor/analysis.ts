/**
 * The one door from the extension to src/analysis and src/refactor. They bundle the TypeScript compiler
 * (~10 MB, ~380 ms to load), so they live in dist/analysis.js and load on the first call here, not on
 * activation. esbuild.mjs maps this require to ./analysis.js for dist/extension.js and refuses a direct
 * `typescript` import in that bundle; other bundles (tests) inline the module as usual.
 */
import type * as AnalysisModule from '../analysisBundle';

export type Analysis = typeof AnalysisModule;

let loaded: Analysis | undefined;
let onLoad: ((ms: number) => void) | undefined;

export function analysis(): Analysis {
  if (loaded) return loaded;
  const started = performance.now();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  loaded = require('../analysisBundle') as Analysis;
  onLoad?.(performance.now() - started);
  return loaded;
}

/** Called once, with the load time in ms, when the first analysis loads the bundle (the log reports it). */
export function whenAnalysisLoads(listener: (ms: number) => void): void {
  onLoad = listener;
}
