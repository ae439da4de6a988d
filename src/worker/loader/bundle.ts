/**
 * Compiles the user's model file (JS or TS, with its relative imports) into one CommonJS bundle
 * with esbuild and runs it in this process. Every `@tensorflow/tfjs*` import is redirected to the
 * worker's tf (./tfShim) so the model lives on our engine; other packages load from the user's
 * node_modules at run time.
 */
import { createRequire } from 'node:module';
import * as path from 'node:path';
import * as vm from 'node:vm';
import type * as Esbuild from 'esbuild';
import { UserCodeError } from '../errors';
import { explainUserError } from './explainErrors';
import { exposeFunctionsPlugin, takeExposedFunctions } from './exposeFunctions';
import { BundleSourceMap } from './sourceMap';
import { installTfGlobal, TF_GLOBAL } from './tfShim';

/** Every import name that must resolve to the worker's tf instance. */
const TF_MODULES = /^@tensorflow\/tfjs(-node|-node-gpu|-layers|-core)?$/;

export interface LoadedModule {
  exports: Record<string, unknown>;
  sourceMap: BundleSourceMap;
  /** Top-level bindings of the entry file asked for with `expose` (exported or not), by name. */
  functions: Record<string, unknown>;
}

function loadEsbuild(): typeof Esbuild {
  // A runtime dependency kept out of our bundles (it ships a native binary).
  return require('esbuild') as typeof Esbuild;
}

const tfAliasPlugin: Esbuild.Plugin = {
  name: 'normscope-tf',
  setup(build) {
    build.onResolve({ filter: TF_MODULES }, (args) => ({ path: args.path, namespace: 'normscope-tf' }));
    build.onLoad({ filter: /.*/, namespace: 'normscope-tf' }, () => ({
      contents: `module.exports = globalThis[${JSON.stringify(TF_GLOBAL)}];`,
      loader: 'js',
    }));
  },
};

/** A user source file: on disk, outside node_modules. */
export function isUserFile(file: string): boolean {
  return path.isAbsolute(file) && !file.split(path.sep).includes('node_modules');
}

async function compile(file: string, expose: readonly string[]): Promise<{ code: string; map: string; bundleFile: string }> {
  const dir = path.dirname(file);
  // Never written to disk: the name only labels stack frames and anchors the map's relative sources.
  const bundleFile = path.join(dir, `.normscope-bundle-${path.basename(file)}.js`);
  let result: Esbuild.BuildResult<{ write: false; sourcemap: 'external'; outfile: string }>;
  try {
    result = await loadEsbuild().build({
      entryPoints: [file],
      absWorkingDir: dir,
      bundle: true,
      write: false,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      sourcemap: 'external',
      sourcesContent: false,
      outfile: bundleFile,
      packages: 'external',
      plugins: expose.length ? [tfAliasPlugin, exposeFunctionsPlugin(file, expose)] : [tfAliasPlugin],
      logLevel: 'silent',
    });
  } catch (e) {
    const failure = e as { errors?: Esbuild.Message[] };
    const first = failure.errors?.[0];
    if (!first) throw e;
    const where = first.location;
    throw new UserCodeError('syntax', `${first.text}${where ? `\n  ${where.lineText}` : ''}`, where
      ? { file: path.resolve(dir, where.file), line: where.line, column: where.column + 1 }
      : { file, line: 1, column: 1 });
  }
  const code = result.outputFiles.find((f) => f.path.endsWith('.js'))?.text ?? '';
  const map = result.outputFiles.find((f) => f.path.endsWith('.map'))?.text ?? '';
  return { code, map, bundleFile };
}

/** How a module is loaded: functions to expose (model builders), and for a training script (../script) how it runs. */
export interface LoadOptions {
  /** Top-level functions of the entry file to expose even when it does not export them (./exposeFunctions). */
  expose?: readonly string[];
  /** Extra names the module's code sees in place of the globals (e.g. tracked timers). */
  scope?: Record<string, unknown>;
  /** Run it as the main module (`require.main === module`), as `node script.js` would. */
  asMain?: boolean;
  /** Called once the source map exists, before the module runs. */
  onCompiled?: (sourceMap: BundleSourceMap) => void;
}

/** Bundles and evaluates the module; errors thrown while it loads carry the user's line. */
export async function loadUserModule(file: string, options: LoadOptions = {}): Promise<LoadedModule> {
  const { code, map, bundleFile } = await compile(file, options.expose ?? []);
  const sourceMap = new BundleSourceMap(bundleFile, map, isUserFile);
  options.onCompiled?.(sourceMap);
  installTfGlobal();
  const module = { exports: {} as Record<string, unknown> };
  const userRequire = createRequire(file);
  if (options.asMain) userRequire.main = module as NodeJS.Module;
  const names = Object.keys(options.scope ?? {});
  try {
    const run = vm.compileFunction(code, ['exports', 'require', 'module', '__filename', '__dirname', ...names], { filename: bundleFile });
    takeExposedFunctions();
    run(module.exports, userRequire, module, file, path.dirname(file), ...names.map((n) => options.scope![n]));
  } catch (e) {
    throw explainUserError(e, 'module-threw', `${path.basename(file)} threw while loading`, sourceMap, file);
  }
  return { exports: module.exports, sourceMap, functions: takeExposedFunctions() };
}
