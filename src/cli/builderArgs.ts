/**
 * `--model` / `--args` for the CLI, and what it does when a function needs arguments and none were given:
 * look for a call of it with literal arguments in the file's project (e.g. `createModel(SAMPLE_LEN, 20)` in
 * train.js) and use it when there is exactly one; otherwise the worker's message names the parameters.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type ts from 'typescript';
import { exposedBindingsOf, findBuilderFunctions, parseSource, signatureOf, type BuilderFunction } from '../analysis/builderFunctions';
import { specGivesArgs } from '../analysis/specArgs';
import { formatArgumentList, parseArgumentArray } from '../analysis/argumentText';
import { findCallSites, type CallSite, type SourceText } from '../analysis/callSites';
import { FACTORY_NAMES } from '../analysis/modelDefinitions';
import { packageRoot } from '../userCode/explainErrors';
import type { RunOptions } from '../protocol/run';
import { isPythonModel } from '../runner/pythonClient';
import { UsageError } from './args';

const SOURCE = /\.(?:[cm]?[jt]s|[jt]sx)$/i;
const MAX_FILES = 2000;

/** `--args` text → the argument array; throws UsageError. */
export function parseArgsFlag(text: string | undefined): unknown[] | undefined {
  if (text === undefined) return undefined;
  const parsed = parseArgumentArray(text);
  if (!parsed.ok) throw new UsageError(`--args: ${parsed.error}`);
  return parsed.args;
}

/** `--input-shape '[1, 28, 28]'` (or `1,28,28`): positive integers without the batch dimension; throws UsageError. */
export function parseInputShape(text: string | undefined): number[] | undefined {
  if (text === undefined) return undefined;
  const body = text.trim().replace(/^[[(]\s*|\s*[\])]$/g, '');
  const dims = body.split(/\s*,\s*/).filter((d) => d !== '');
  if (dims.length === 0 || dims.some((d) => !/^[1-9]\d*$/.test(d)))
    throw new UsageError(`--input-shape expects positive integers without the batch dimension, e.g. '[1, 28, 28]', got '${text}'`);
  return dims.map(Number);
}

/**
 * The model choice of --model / --args / --input-shape for `file`. On a PyTorch file --args is Python, passed as
 * written (the engine evaluates it in the file's namespace); elsewhere a JSON(-like) array. --input-shape is for
 * PyTorch models only: a tfjs model declares its input shape in its first layer.
 */
export function modelChoiceFlags(
  file: string,
  values: { model?: string; args?: string; 'input-shape'?: string },
): Pick<RunOptions, 'model' | 'args' | 'pythonArgs' | 'inputShape'> {
  const python = isPythonModel(file);
  if (values['input-shape'] !== undefined && !python)
    throw new UsageError(
      '--input-shape applies to PyTorch (.py) models; a TensorFlow.js model declares its input shape in its first layer',
    );
  const inputShape = parseInputShape(values['input-shape']);
  const args = python ? undefined : parseArgsFlag(values.args);
  return {
    ...(values.model !== undefined ? { model: values.model } : {}),
    ...(args !== undefined ? { args } : {}),
    ...(python && values.args !== undefined ? { pythonArgs: values.args } : {}),
    ...(inputShape ? { inputShape } : {}),
  };
}

/** JS/TS files under `root` (no node_modules, dot folders or build output), at most MAX_FILES. */
export function projectSources(root: string): SourceText[] {
  const out: SourceText[] = [];
  const walk = (dir: string): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (out.length >= MAX_FILES) return;
      const p = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (!e.name.startsWith('.') && !['node_modules', 'dist', 'build', 'out', 'coverage'].includes(e.name)) walk(p);
      } else if (SOURCE.test(e.name) && !e.name.endsWith('.d.ts')) {
        try {
          const stat = fs.statSync(p);
          if (stat.size < 1_000_000) out.push({ file: p, text: fs.readFileSync(p, 'utf8') });
        } catch {
          /* unreadable: skip */
        }
      }
    }
  };
  walk(root);
  return out;
}

/** The builder the worker will call without --model: an exported createModel/buildModel/default, else the only one. */
function defaultBuilder(builders: readonly BuilderFunction[]): BuilderFunction | undefined {
  return (
    builders.find((b) => b.exported && (FACTORY_NAMES.has(b.name) || b.name === 'default')) ??
    (builders.length === 1 ? builders[0] : undefined)
  );
}

export type CallSiteChoice =
  { args: unknown[]; site: CallSite; fn: BuilderFunction } | { ambiguous: CallSite[]; fn: BuilderFunction } | null;

/**
 * When the function to check has required parameters and no --args were given: its one statically known
 * call site in the project (or all of them when they disagree); null when there is nothing to choose.
 */
export function callSiteArguments(file: string, model: string | undefined): CallSiteChoice {
  let sf: ts.SourceFile;
  try {
    sf = parseSource(fs.readFileSync(file, 'utf8'), file);
  } catch {
    return null;
  }
  const builders = findBuilderFunctions(sf);
  const fn = model ? builders.find((b) => b.name === model) : defaultBuilder(builders);
  // The file's own spec gives them (the worker uses it): nothing to look for.
  if (!fn || fn.required === 0 || fn.name.includes('.') || specGivesArgs(sf, fn.name)) return null;
  const sites = findCallSites(projectSources(packageRoot(file)), file, fn.name).filter((s) => s.args.length >= fn.required);
  const distinct = new Map(sites.map((s) => [JSON.stringify(s.args), s]));
  if (distinct.size === 1) return { args: sites[0].args, site: sites[0], fn };
  return distinct.size > 1 ? { ambiguous: [...distinct.values()], fn } : null;
}

/** The stderr note (or error) for a call-site choice. */
export function describeCallSiteChoice(choice: NonNullable<CallSiteChoice>, where: (file: string) => string): string {
  if ('args' in choice) {
    return `using the arguments of ${where(choice.site.file)}:${choice.site.line} ${choice.site.text} for ${signatureOf(choice.fn)}: --args '[${formatArgumentList(choice.args)}]'`;
  }
  return (
    `${signatureOf(choice.fn)} is called with different arguments in ${choice.ambiguous.map((s) => `${where(s.file)}:${s.line} (${formatArgumentList(s.args)})`).join(', ')}; ` +
    `choose with --args '[...]'`
  );
}

/** WorkerClientOptions.exposedBindings for the CLI (which bundles the compiler). */
export function exposedBindings(file: string, model: string | undefined): string[] {
  return exposedBindingsOf(fs.readFileSync(file, 'utf8'), file, model);
}
