// One build script for every bundle: extension host, training worker, CLI, webview and tests.
// Usage: node esbuild.mjs [--watch] [--production]
import * as esbuild from 'esbuild';
import { chmodSync, cpSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(fileURLToPath(import.meta.url));
const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');
const dist = join(root, 'dist');

// Native or self-locating packages stay outside the bundles and load at run time:
// tfjs-node downloads libtensorflow at install (optional, dynamic import), esbuild ships a native
// binary (the worker uses it to compile the user's model), vscode is provided by the host.
const nodeExternals = ['vscode', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu', 'esbuild'];

/** Every bundle goes through here so options stay the same across them. */
async function build(name, options) {
  const config = {
    bundle: true,
    sourcemap: production ? false : 'linked',
    sourcesContent: false,
    minify: production,
    logLevel: 'warning',
    target: options.platform === 'browser' ? 'chrome120' : 'node20',
    format: options.platform === 'browser' ? 'iife' : 'cjs',
    external: options.platform === 'browser' ? [] : nodeExternals,
    ...options,
  };
  if (watch) {
    const ctx = await esbuild.context({
      ...config,
      plugins: [
        ...(config.plugins ?? []),
        { name: 'log', setup: (b) => b.onEnd((r) => console.log(`[watch] ${name}: ${r.errors.length} errors`)) },
      ],
    });
    await ctx.watch();
  } else {
    await esbuild.build(config);
  }
}

function findFiles(dir, suffix) {
  const out = [];
  let entries = [];
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const entry of entries) {
    const p = join(dir, entry);
    if (statSync(p).isDirectory()) out.push(...findFiles(p, suffix));
    else if (p.endsWith(suffix)) out.push(p);
  }
  return out;
}

/** The wasm backend looks for its .wasm binaries next to the bundle (see src/worker/backend.ts). */
function copyWasmBinaries() {
  const from = join(root, 'node_modules/@tensorflow/tfjs-backend-wasm/dist');
  const to = join(dist, 'wasm');
  mkdirSync(to, { recursive: true });
  for (const f of readdirSync(from).filter((f) => f.endsWith('.wasm'))) cpSync(join(from, f), join(to, f));
}

/**
 * The worker bundles the user's model with esbuild at run time. esbuild is a native binary, so instead of
 * bundling it we ship its JS API and this platform's binary under dist/node_modules, where Node resolves
 * `require('esbuild')` from dist/worker.js in the installed extension (the .vsix carries no node_modules).
 */
function copyEsbuildRuntime() {
  const to = join(dist, 'node_modules');
  const from = join(root, 'node_modules');
  for (const f of ['package.json', 'lib/main.js']) {
    mkdirSync(dirname(join(to, 'esbuild', f)), { recursive: true });
    cpSync(join(from, 'esbuild', f), join(to, 'esbuild', f));
  }
  for (const platform of readdirSync(join(from, '@esbuild'))) {
    cpSync(join(from, '@esbuild', platform), join(to, '@esbuild', platform), { recursive: true });
  }
}

/**
 * dist/extension.js stays small and quick to activate: src/analysis + src/refactor and the TypeScript compiler
 * go to dist/analysis.js, which src/editor/analysis.ts requires on the first analysis. This plugin points that
 * require at the sibling bundle and fails the build when anything else pulls `typescript` into the extension.
 */
const lazyAnalysis = {
  name: 'lazy-analysis',
  setup(b) {
    b.onResolve({ filter: /analysisBundle$/ }, () => ({ path: './analysis.js', external: true }));
    b.onResolve({ filter: /^typescript$/ }, (args) => ({
      errors: [
        {
          text: `${relative(root, args.importer)} imports the TypeScript compiler into dist/extension.js; call src/analysis and src/refactor through analysis() in src/editor/analysis.ts (lazy; export new functions from src/analysisBundle.ts)`,
        },
      ],
    }));
  },
};

const nodeBundles = [
  // The banner's timestamp lets activate() report the bundle's load time (src/extension.ts).
  [
    'extension',
    'src/extension.ts',
    'dist/extension.js',
    { plugins: [lazyAnalysis], banner: { js: '"use strict";\nvar __normscopeLoadStart = performance.now();' } },
  ],
  ['analysis', 'src/analysisBundle.ts', 'dist/analysis.js'],
  ['worker', 'src/worker/main.ts', 'dist/worker.js'],
  // The npm package's library (`require('normscope')`: normscopeCallback): it runs on the user's own tfjs, never a copy.
  [
    'library',
    'src/library/index.ts',
    'dist/index.js',
    { external: [...nodeExternals, '@tensorflow/tfjs', '@tensorflow/tfjs-core', '@tensorflow/tfjs-layers'] },
  ],
  ['worker-thread', 'src/worker/thread.ts', 'dist/worker-thread.js'],
  // The npm `bin`: a shebang, and made executable below (npm does not always fix the mode when it links bins).
  [
    'cli',
    'src/cli/main.ts',
    'dist/cli.js',
    {
      banner: { js: '#!/usr/bin/env node' },
      plugins: [
        {
          name: 'executable',
          setup: (b) =>
            b.onEnd((r) => {
              if (r.errors.length === 0) chmodSync(join(dist, 'cli.js'), 0o755);
            }),
        },
      ],
    },
  ],
];

const tests = [
  ...findFiles(join(root, 'test/unit'), '.test.ts'),
  ...findFiles(join(root, 'test/e2e'), '.ts'),
  ...findFiles(join(root, 'test/bench'), '.ts'),
];

copyWasmBinaries();
copyEsbuildRuntime();
// The library's types: declared by hand in src/library/normscope.d.ts, which src/library/index.ts is checked against.
mkdirSync(dist, { recursive: true });
cpSync(join(root, 'src/library/normscope.d.ts'), join(dist, 'index.d.ts'));
await Promise.all([
  ...nodeBundles.map(([name, entry, outfile, extra]) =>
    build(name, {
      platform: 'node',
      entryPoints: [join(root, entry)],
      outfile: join(root, outfile),
      ...extra,
    }),
  ),
  build('webview', {
    platform: 'browser',
    entryPoints: [join(root, 'webview/main.ts')],
    outfile: join(dist, 'webview.js'),
  }),
  ...(production
    ? []
    : [
        build('tests', {
          platform: 'node',
          entryPoints: tests,
          outbase: join(root, 'test'),
          outdir: join(dist, 'test'),
          // The e2e driver launches Chromium through playwright-core, and the lint test loads ESLint; keep them out of the bundle.
          external: [...nodeExternals, 'playwright-core', '@vscode/test-electron', 'mocha', 'eslint'],
        }),
      ]),
]);
if (!watch) console.log(`built ${nodeBundles.length + 1} bundles and ${tests.length} test files into ${relative(root, dist)}/`);
