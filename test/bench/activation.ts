/**
 * Editor start-up benchmark, each figure from a fresh Node process (so nothing is cached):
 *   activation   require dist/extension.js and call activate() against a do-nothing `vscode` stub, i.e. our own
 *                cost on activation (goal ≤ 50 ms), and whether that loaded the TypeScript compiler (it must not);
 *   first hover  load dist/analysis.js (TypeScript) + parse a 2,000-line model file + find the call (goal ≤ 500 ms);
 *   warm hover   the same file edited (new version, cache miss) once the analysis is loaded (goal ≤ 50 ms);
 *   cached hover the lookup on the cached parse of an unchanged version.
 * The first hover is measured twice: with a plain require, and through the V8 code cache the extension keeps
 * (src/editor/codeCache.ts; a first process writes it, as the first session does).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import Module from 'node:module';
import { loadavg, tmpdir } from 'node:os';
import * as path from 'node:path';
import { loadWithCodeCache } from '../../src/editor/codeCache';
import { median } from '../../src/diagnosis/report';
import { bigModelFile } from './bigModelFile';

const DIST = path.resolve(__dirname, '..', '..');

/** A `vscode` module where every property is a callable, constructible stub and iteration is empty. */
function vscodeStub(): unknown {
  const make = (): unknown =>
    new Proxy(
      function stub() {
        /* every API call lands here */
      },
      {
        get(_t, key) {
          if (key === Symbol.toPrimitive) return () => 'stub';
          if (key === Symbol.iterator)
            return function* empty() {
              /* no documents, no editors */
            };
          if (key === 'then') return undefined;
          return make();
        },
        // esbuild's __toESM copies own properties onto an object whose prototype is this one: lookups fall through here.
        getPrototypeOf: () => make() as object,
        set: () => true,
        apply: () => make(),
        construct: () => make() as object,
      },
    );
  return make();
}

function childActivation(): object {
  const stub = vscodeStub();
  const load = Module as unknown as { _load: (request: string, ...rest: unknown[]) => unknown };
  const original = load._load;
  load._load = (request: string, ...rest: unknown[]) => (request === 'vscode' ? stub : original(request, ...rest));
  const t0 = performance.now();
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loads the built bundle
  const ext = require(path.join(DIST, 'extension.js')) as { activate(ctx: unknown): { timing: { activateMs: number } } };
  const requireMs = performance.now() - t0;
  const api = ext.activate(vscodeStub());
  const totalMs = performance.now() - t0;
  const analysisLoaded = Object.keys(require.cache).some((k) => k.endsWith(`${path.sep}analysis.js`));
  return { requireMs, activateMs: api.timing.activateMs, totalMs, analysisLoaded };
}

function childHover(file: string, cacheDir?: string): object {
  const src = readFileSync(file, 'utf8');
  const at = src.indexOf('layerNormalization') + 3;
  const t0 = performance.now();
  const bundle = path.join(DIST, 'analysis.js');
  type Analysis = typeof import('../../src/analysisBundle');
  const viaCache = cacheDir ? loadWithCodeCache<Analysis>(bundle, cacheDir) : undefined;
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loads the built bundle
  const analysis = viaCache?.exports ?? (require(bundle) as Analysis);
  const loadMs = performance.now() - t0;
  const first = analysis.layerCallAt(analysis.parseModelSource(src, file).calls, at);
  const coldMs = performance.now() - t0;
  if (!first) throw new Error('no layer call found for the hover');
  viaCache?.save();
  const warm: number[] = [];
  const cached: number[] = [];
  for (let i = 0; i < 9; i++) {
    const edited = `${src}\n// edit ${i}\n`;
    let t = performance.now();
    const parsed = analysis.parseModelSource(edited, file);
    analysis.layerCallAt(parsed.calls, at);
    warm.push(performance.now() - t);
    t = performance.now();
    analysis.layerCallAt(parsed.calls, at);
    cached.push(performance.now() - t);
  }
  return { lines: src.split('\n').length, analysisLoadMs: loadMs, coldMs, warmMs: median(warm), cachedMs: median(cached) };
}

function inFreshProcess(args: string[]): Record<string, number | boolean> {
  return JSON.parse(execFileSync(process.execPath, [__filename, ...args], { encoding: 'utf8' }));
}

const round = (x: number | boolean) => (typeof x === 'number' ? Number(x.toFixed(2)) : x);
const rounded = (o: Record<string, number | boolean>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, round(v)]));

export async function benchActivation(): Promise<object> {
  const dir = mkdtempSync(path.join(tmpdir(), 'normscope-bench-'));
  try {
    const file = path.join(dir, 'big-model.js');
    writeFileSync(file, bigModelFile());
    const activation = [0, 1, 2].map(() => inFreshProcess(['--activation']));
    const hover = [0, 1, 2].map(() => inFreshProcess(['--hover', file]));
    const cacheDir = path.join(dir, 'code-cache');
    inFreshProcess(['--hover', file, cacheDir]); // writes the cache, as the first session does
    const cachedHover = [0, 1, 2].map(() => inFreshProcess(['--hover', file, cacheDir]));
    const med = (runs: Record<string, number | boolean>[], key: string) => median(runs.map((r) => r[key] as number));
    return {
      activation: rounded({
        requireMs: med(activation, 'requireMs'),
        activateMs: med(activation, 'activateMs'),
        totalMs: med(activation, 'totalMs'),
        analysisLoaded: activation.some((r) => r.analysisLoaded),
        goalMs: 50,
      }),
      firstHover: rounded({
        lines: hover[0].lines as number,
        analysisLoadMs: med(hover, 'analysisLoadMs'),
        coldMs: med(hover, 'coldMs'),
        coldGoalMs: 500,
        warmMs: med(hover, 'warmMs'),
        warmGoalMs: 50,
        cachedMs: med(hover, 'cachedMs'),
      }),
      firstHoverWithCodeCache: rounded({
        analysisLoadMs: med(cachedHover, 'analysisLoadMs'),
        coldMs: med(cachedHover, 'coldMs'),
        warmMs: med(cachedHover, 'warmMs'),
      }),
      loadAverage: Number(loadavg()[0].toFixed(2)),
      note: 'medians of 3 fresh processes; activation runs against a do-nothing vscode stub (our own cost only)',
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// Child mode, or run directly: node dist/test/bench/activation.js
if (/[\\/]activation\.js$/.test(process.argv[1] ?? '')) {
  const mode = process.argv[2];
  if (mode === '--activation') process.stdout.write(JSON.stringify(childActivation()));
  else if (mode === '--hover') process.stdout.write(JSON.stringify(childHover(process.argv[3], process.argv[4])));
  else void benchActivation().then((r) => console.log(JSON.stringify(r, null, 2)));
}
