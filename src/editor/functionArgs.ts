/**
 * Arguments for a builder function run from the editor, in the order: the file's `normscope` spec
 * (the worker applies it), arguments remembered for this function in the workspace, statically known call
 * sites (offered as choices), the function's defaults, else an input box showing its signature.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { BuilderFunction } from '../analysis/builderFunctions';
import type { CallSite, SourceText } from '../analysis/callSites';
import { analysis } from './analysis';
import type ts from 'typescript';

const SOURCES = '**/*.{js,ts,mjs,cjs,jsx,tsx}';
const EXCLUDED = '**/{node_modules,dist,out,build,.git}/**';

/** Text of the workspace's JS/TS files that mention `name` (open documents as edited). */
async function sourcesMentioning(name: string): Promise<SourceText[]> {
  const open = new Map(vscode.workspace.textDocuments.map((d) => [d.uri.fsPath, d.getText()]));
  const out: SourceText[] = [];
  for (const uri of await vscode.workspace.findFiles(SOURCES, EXCLUDED, 1000)) {
    let text = open.get(uri.fsPath);
    if (text === undefined) {
      try {
        text = Buffer.from(await vscode.workspace.fs.readFile(uri)).toString('utf8');
      } catch {
        continue;
      }
    }
    if (text.includes(name.split('.').pop()!)) out.push({ file: uri.fsPath, text });
  }
  return out;
}

export class FunctionArguments {
  constructor(private readonly state: vscode.Memento) {}

  private key(file: string, name: string): string {
    return `normscope.args:${file}#${name}`;
  }

  remembered(file: string, name: string): unknown[] | undefined {
    return this.state.get<unknown[]>(this.key(file, name));
  }

  async remember(file: string, name: string, args: unknown[] | undefined): Promise<void> {
    await this.state.update(this.key(file, name), args);
  }

  /** Asks with an input box showing the signature; undefined when dismissed. */
  async ask(file: string, fn: BuilderFunction, initial?: unknown[]): Promise<unknown[] | undefined> {
    const signature = analysis().signatureOf(fn);
    const text = await vscode.window.showInputBox({
      title: `NormScope: arguments for ${signature}`,
      prompt:
        `Write them as between the parentheses of a call, with literal values (e.g. [28, 28, 1], 10); defaults may be left out. ` +
        `Remembered for ${fn.name} in ${path.basename(file)}; change with "NormScope: Change Arguments…".`,
      placeHolder: fn.params.map((p) => p.name).join(', '),
      value: initial ? analysis().formatArgumentList(initial) : undefined,
      ignoreFocusOut: true,
      validateInput: (value) => {
        const parsed = analysis().parseArgumentList(value);
        if (!parsed.ok) return parsed.error;
        const missing = analysis().missingParams(fn, parsed.args.length);
        if (missing.length) return `${signature} needs a value for ${missing.join(', ')}`;
        const max = fn.params.some((p) => p.rest) ? Infinity : fn.params.length;
        return parsed.args.length > max ? `${signature} takes at most ${max} argument${max === 1 ? '' : 's'}` : undefined;
      },
    });
    if (text === undefined) return undefined;
    const parsed = analysis().parseArgumentList(text);
    return parsed.ok ? parsed.args : undefined;
  }

  /**
   * The arguments to run `fn` with: an array, `null` when the worker finds them itself (spec, or defaults
   * with nothing else known), undefined when the user dismissed the choice.
   */
  async resolve(file: string, sf: ts.SourceFile, fn: BuilderFunction): Promise<unknown[] | null | undefined> {
    if (fn.params.length === 0 || analysis().specGivesArgs(sf, fn.name)) return null;
    const remembered = this.remembered(file, fn.name);
    if (remembered) return remembered;
    // The file itself counts even when it lies outside the workspace folders.
    const sources = fn.name.includes('.')
      ? []
      : [{ file, text: sf.text }, ...(await sourcesMentioning(fn.name)).filter((s) => s.file !== file)];
    const sites = analysis()
      .findCallSites(sources, file, fn.name)
      .filter((s) => analysis().missingParams(fn, s.args.length).length === 0);
    if (sites.length === 0 && fn.required === 0) return null;
    const chosen = sites.length ? await this.pickCallSite(file, fn, sites) : await this.ask(file, fn);
    if (chosen !== undefined) await this.remember(file, fn.name, chosen);
    return chosen;
  }

  private async pickCallSite(file: string, fn: BuilderFunction, sites: CallSite[]): Promise<unknown[] | undefined> {
    type Item = vscode.QuickPickItem & { args?: unknown[]; enter?: true };
    const distinct = [...new Map(sites.map((s) => [JSON.stringify(s.args), s])).values()];
    const items: Item[] = distinct.map((s) => ({
      label: s.text,
      description: `${vscode.workspace.asRelativePath(s.file)}:${s.line}`,
      detail: `arguments: ${analysis().formatArgumentList(s.args)}`,
      args: s.args,
    }));
    if (fn.required === 0) items.push({ label: 'Use the default values', description: analysis().signatureOf(fn), args: [] });
    items.push({ label: 'Enter arguments…', description: analysis().signatureOf(fn), enter: true });
    const picked = await vscode.window.showQuickPick(items, {
      title: `NormScope: check ${analysis().signatureOf(fn)} with`,
      placeHolder: 'Arguments of a call found in the workspace, or your own',
      ignoreFocusOut: true,
    });
    if (!picked) return undefined;
    return picked.enter ? this.ask(file, fn) : picked.args;
  }
}
