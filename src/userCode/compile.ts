/**
 * Compiles the user's model file (JS or TS, with its relative imports) into one CommonJS bundle and
 * its source map with esbuild. No tfjs here: the host also calls it, to compile for a worker that runs
 * under Node's permission model, where esbuild (a child process) cannot start.
 */
import * as path from 'node:path';
import type * as Esbuild from 'esbuild';
import type { PreparedModule } from '../protocol/worker';
import { UserCodeError } from './errors';
import { exposeFunctionsPlugin } from './exposeFunctions';

/** Name of the global the bundled user code reads its tf from (see src/worker/loader/tfShim.ts). */
export const TF_GLOBAL = '__normscopeTf';

/** Every import name that must resolve to the worker's tf instance. */
const TF_MODULES = /^@tensorflow\/tfjs(-node|-node-gpu|-layers|-core)?$/;

export type { PreparedModule };

function loadEsbuild(): typeof Esbuild {
  // A runtime dependency kept out of our bundles (it ships a native binary).
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- kept out of the bundle
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

/**
 * Bundles `file`; `expose` names top-level functions of the entry to make callable even when it does not
 * export them (./exposeFunctions: the model-building functions the worker may call).
 */
export async function compileModule(file: string, expose: readonly string[] = []): Promise<PreparedModule> {
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
    throw new UserCodeError(
      'syntax',
      `${first.text}${where ? `\n  ${where.lineText}` : ''}`,
      where ? { file: path.resolve(dir, where.file), line: where.line, column: where.column + 1 } : { file, line: 1, column: 1 },
    );
  }
  const code = result.outputFiles.find((f) => f.path.endsWith('.js'))?.text ?? '';
  const map = result.outputFiles.find((f) => f.path.endsWith('.map'))?.text ?? '';
  return { file, code, map, bundleFile };
}
