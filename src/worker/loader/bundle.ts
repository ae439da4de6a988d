/**
 * Compiles the user's model file (JS or TS, with its relative imports) into one CommonJS bundle
 * with esbuild and runs it in this process. Every `@tensorflow/tfjs*` import is redirected to the
 * worker's tf (./tfShim) so the model lives on our engine; other packages load from the user's
 * node_modules at run time.
 */
import { createRequire } from 'node:module';
import * as path from 'node:path';
import * as vm from 'node:vm';
import type { SourceLocation } from '../../protocol';
import { compileModule, type PreparedModule } from '../../userCode/compile';
import { explainUserError } from '../../userCode/explainErrors';
import { takeExposedFunctions } from '../../userCode/exposeFunctions';
import { BundleSourceMap } from '../../userCode/sourceMap';
import { installTfGlobal } from './tfShim';

export interface LoadedModule {
  exports: Record<string, unknown>;
  sourceMap: BundleSourceMap;
  /** Top-level bindings of the entry file asked for with `expose` (exported or not), by name. */
  functions: Record<string, unknown>;
}

/** A user source file: on disk, outside node_modules. */
export function isUserFile(file: string): boolean {
  return path.isAbsolute(file) && !file.split(path.sep).includes('node_modules');
}

/** Modules the host compiled already (a worker under the permission model cannot start esbuild). */
const prepared = new Map<string, PreparedModule>();
export function providePrepared(module: PreparedModule): void {
  prepared.set(module.file, module);
}

/** Source maps of every bundle run in this thread, to map errors thrown later (timers, promises). */
const loadedMaps: BundleSourceMap[] = [];

/** The user's line of an error raised outside any call NormScope made (a timer, a promise), or null. */
export function userSiteOf(stack: string | undefined): SourceLocation | null {
  for (const map of loadedMaps) {
    const site = map.errorSite(stack);
    if (site) return site;
  }
  return null;
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
  const { code, map, bundleFile } = prepared.get(file) ?? (await compileModule(file, options.expose ?? []));
  const sourceMap = new BundleSourceMap(bundleFile, map, isUserFile);
  loadedMaps.push(sourceMap);
  if (loadedMaps.length > 8) loadedMaps.shift(); // in-process callers (tests, bench) run many modules
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
