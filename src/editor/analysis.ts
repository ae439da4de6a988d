/**
 * The one door from the extension to src/analysis and src/refactor. They bundle the TypeScript compiler
 * (~10 MB, ~380 ms to load), so they live in dist/analysis.js and load on the first call here, not on
 * activation. esbuild.mjs maps this require to ./analysis.js for dist/extension.js and refuses a direct
 * `typescript` import in that bundle; other bundles (tests) inline the module as usual. With useCodeCache() the
 * bundle loads through V8's code cache (./codeCache.ts), which roughly halves the first analysis of a session.
 */
import { existsSync } from 'node:fs';
import type * as AnalysisModule from '../analysisBundle';
import { loadWithCodeCache } from './codeCache';

export type Analysis = typeof AnalysisModule;

/** Saving the code cache waits until the first analyses have run, so their compiled functions are in it. */
const SAVE_CODE_CACHE_AFTER_MS = 20_000;

let loaded: Analysis | undefined;
let onLoad: ((ms: number, how: string) => void) | undefined;
let codeCache: { bundle: string; dir: string; onError(e: unknown): void } | undefined;

function loadCached(cache: NonNullable<typeof codeCache>): { exports: Analysis; how: string } | undefined {
  if (!existsSync(cache.bundle)) return undefined;
  try {
    const load = loadWithCodeCache<Analysis>(cache.bundle, cache.dir);
    if (load.cache !== 'hit') {
      setTimeout(() => {
        try {
          load.save();
        } catch (e) {
          cache.onError(e);
        }
      }, SAVE_CODE_CACHE_AFTER_MS).unref();
    }
    return { exports: load.exports, how: `code cache ${load.cache}` };
  } catch (e) {
    cache.onError(e);
    return undefined;
  }
}

export function analysis(): Analysis {
  if (loaded) return loaded;
  const started = performance.now();
  const cached = codeCache && loadCached(codeCache);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  loaded = cached?.exports ?? (require('../analysisBundle') as Analysis);
  onLoad?.(performance.now() - started, cached?.how ?? 'plain require');
  return loaded;
}

/** Called once, with the load time in ms and how it loaded, when the first analysis loads the bundle. */
export function whenAnalysisLoads(listener: (ms: number, how: string) => void): void {
  onLoad = listener;
}

/** Load `bundle` (dist/analysis.js) through a V8 code cache kept in `dir`; errors fall back to a plain require. */
export function useCodeCache(bundle: string, dir: string, onError: (e: unknown) => void): void {
  codeCache = { bundle, dir, onError };
}
