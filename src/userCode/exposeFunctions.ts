/**
 * Makes named top-level functions of the entry file callable even when the file does not export them:
 * an esbuild plugin appends one statement to the entry's source that stores them on a global, which
 * src/worker/loader/bundle.ts reads back after the module ran. Appending to the source (not a bundle footer) keeps each
 * name bound to the entry's own declaration even when esbuild renames symbols to avoid collisions, and
 * works alike for ESM and CommonJS entries.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as Esbuild from 'esbuild';

/** The global the appended statement writes to. */
export const FUNCTIONS_GLOBAL = '__normscopeFunctions';

const LOADERS: Record<string, Esbuild.Loader> = {
  '.ts': 'ts',
  '.mts': 'ts',
  '.cts': 'ts',
  '.tsx': 'tsx',
  '.jsx': 'jsx',
  '.js': 'js',
  '.mjs': 'js',
  '.cjs': 'js',
};

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** The statement appended to the entry: `globalThis.__normscopeFunctions = { f: typeof f === 'undefined' ? undefined : f, ... }`. */
export function exposeStatement(names: readonly string[]): string {
  const entries = [...new Set(names)]
    .filter((n) => IDENTIFIER.test(n))
    .map((n) => `${JSON.stringify(n)}: typeof ${n} === 'undefined' ? undefined : ${n}`);
  return `\n;globalThis[${JSON.stringify(FUNCTIONS_GLOBAL)}] = { ${entries.join(', ')} };\n`;
}

/** Plugin exposing `names` (top-level bindings of `entry`). */
export function exposeFunctionsPlugin(entry: string, names: readonly string[]): Esbuild.Plugin {
  const resolved = path.resolve(entry);
  return {
    name: 'normscope-expose-functions',
    setup(build) {
      const filter = new RegExp(`^${resolved.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
      build.onLoad({ filter, namespace: 'file' }, (args) => {
        if (path.resolve(args.path) !== resolved) return undefined;
        const loader = LOADERS[path.extname(resolved).toLowerCase()] ?? 'js';
        return { contents: fs.readFileSync(resolved, 'utf8') + exposeStatement(names), loader, resolveDir: path.dirname(resolved) };
      });
    },
  };
}

/** Reads (and clears) what the appended statement stored. */
export function takeExposedFunctions(): Record<string, unknown> {
  const g = globalThis as Record<string, unknown>;
  const found = (g[FUNCTIONS_GLOBAL] ?? {}) as Record<string, unknown>;
  delete g[FUNCTIONS_GLOBAL];
  return found;
}
