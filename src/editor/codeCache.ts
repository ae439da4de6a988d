/**
 * Loads a CommonJS bundle through V8's code cache: the first load compiles it as usual and, once the code
 * has run for a while (so the functions it used are compiled too), saves the cache; later sessions skip most
 * parsing and compiling. Used for dist/analysis.js (the TypeScript compiler), whose plain require is the
 * biggest part of the first hover. No vscode import, so it is unit-tested.
 */
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire, wrap } from 'node:module';
import { basename, dirname, join } from 'node:path';
import * as vm from 'node:vm';

export interface CodeCacheLoad<T> {
  exports: T;
  /** 'hit': cache accepted; 'miss': none yet; 'rejected': V8 refused it (another Node/V8), rewritten. */
  cache: 'hit' | 'miss' | 'rejected';
  /** Writes the cache now (the caller picks a moment after the code has been used); no-op on a hit. */
  save(): void;
}

/** Cache file name for `file`: its size and mtime, with the runtime's V8 version, so any change misses. */
export function cacheFileFor(file: string, cacheDir: string): string {
  const s = statSync(file);
  return join(cacheDir, `${basename(file)}-${s.size}-${Math.floor(s.mtimeMs)}-v8-${process.versions.v8}.cache`);
}

export function loadWithCodeCache<T>(file: string, cacheDir: string): CodeCacheLoad<T> {
  const cacheFile = cacheFileFor(file, cacheDir);
  let cached: Buffer | undefined;
  try {
    cached = readFileSync(cacheFile);
  } catch {
    cached = undefined;
  }
  const script = new vm.Script(wrap(readFileSync(file, 'utf8')), { filename: file, cachedData: cached });
  const module = { exports: {} as T };
  (script.runInThisContext() as (...args: unknown[]) => void)(module.exports, createRequire(file), module, file, dirname(file));
  const cache = !cached ? 'miss' : script.cachedDataRejected ? 'rejected' : 'hit';
  return {
    exports: module.exports,
    cache,
    save() {
      if (cache === 'hit') return;
      mkdirSync(cacheDir, { recursive: true });
      // Write then rename, so a concurrent window never reads half a cache.
      const tmp = `${cacheFile}.${process.pid}.tmp`;
      writeFileSync(tmp, script.createCachedData());
      renameSync(tmp, cacheFile);
    },
  };
}
