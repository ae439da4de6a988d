/**
 * The import boundaries in eslint.config.mjs bite: files linted in memory at paths inside the repo,
 * through ESLint's Node API with the project's own config.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import { ESLint } from 'eslint';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const eslint = new ESLint({ cwd: ROOT });

/** The no-restricted-imports messages for `source` linted as if it were the file at `file` (repo-relative). */
async function boundaryErrors(file: string, source: string): Promise<string[]> {
  const [result] = await eslint.lintText(source, { filePath: path.join(ROOT, file) });
  assert.equal(result.fatalErrorCount, 0, JSON.stringify(result.messages));
  return result.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

/** Each `[file, import]` pair is refused with one message matching `message`. */
async function assertRefused(pairs: readonly (readonly [string, string])[], message: RegExp): Promise<void> {
  for (const [file, from] of pairs) {
    const errors = await boundaryErrors(file, `import { a } from '${from}';\nexport const b = a;\n`);
    assert.equal(errors.length, 1, `${file} importing ${from}`);
    assert.match(errors[0], message, `${file} importing ${from}`);
  }
}

test('src/worker may not import vscode', async () => {
  const errors = await boundaryErrors('src/worker/x.ts', "import * as vscode from 'vscode';\nexport const v = vscode;\n");
  assert.equal(errors.length, 1);
  assert.match(errors[0], /Only src\/editor, src\/panel and src\/extension\.ts may import vscode/);
});

test('src/worker may not import the host side (src/runner, src/editor, src/panel, src/host, src/cli) nor runlog or library', async () => {
  await assertRefused(
    [
      ['src/worker/x.ts', '../runner/workerClient'],
      ['src/worker/loader/x.ts', '../../editor/runs'],
      ['src/worker/x.ts', '../panel'],
      ['src/worker/x.ts', '../host/runResults'],
      ['src/worker/script/x.ts', '../../cli/report'],
      ['src/worker/x.ts', '../runlog/writer'],
      ['src/worker/x.ts', '../library'],
    ],
    /src\/worker runs in its own process/,
  );
});

test('src/worker may import src/protocol, src/diagnosis, src/userCode and its own files', async () => {
  const source =
    "import { errorMessage } from '../protocol';\nimport { b } from './loader/bundle';\nimport { findingsFor } from '../diagnosis/findings';\n" +
    "import { UserCodeError } from '../userCode/errors';\nexport const c = [errorMessage, b, findingsFor, UserCodeError];\n";
  assert.deepEqual(await boundaryErrors('src/worker/x.ts', source), []);
});

test('src/runner, src/cli and src/runlog may not reach into src/worker: they import src/diagnosis and src/userCode', async () => {
  await assertRefused(
    [
      ['src/runner/x.ts', '../worker/findings'],
      ['src/cli/x.ts', '../worker/loader/explainErrors'],
      ['src/runlog/x.ts', '../worker/detectors'],
    ],
    /src\/worker is the training process, not a library/,
  );
  const allowed =
    "import { buildReport } from '../diagnosis/report';\nimport { compileModule } from '../userCode/compile';\nexport const c = [buildReport, compileModule];\n";
  for (const file of ['src/runner/x.ts', 'src/cli/x.ts', 'src/runlog/x.ts'])
    assert.deepEqual(await boundaryErrors(file, allowed), [], file);
});

test('src/diagnosis and src/userCode import only src/protocol (and their own files), at any depth', async () => {
  await assertRefused(
    [
      ['src/diagnosis/x.ts', '../worker/errors'],
      ['src/diagnosis/detectors/x.ts', '../../userCode/errors'],
      ['src/diagnosis/detectors/x.ts', '../../analysis/lint'],
      ['src/userCode/x.ts', '../worker/loader/tfShim'],
      ['src/userCode/x.ts', '../diagnosis/findings'],
    ],
    /imports only src\/protocol/,
  );
  for (const [file, source] of [
    [
      'src/diagnosis/detectors/x.ts',
      "import type { Finding } from '../../protocol/run';\nimport { num } from './series';\nimport { a } from '../findings';\n",
    ],
    ['src/diagnosis/x.ts', "import { errorMessage } from '../protocol';\nimport { a } from './detectors';\n"],
    ['src/userCode/x.ts', "import type { SourceLocation } from '../protocol';\nimport { a } from './errors';\n"],
  ]) {
    assert.deepEqual(await boundaryErrors(file, `${source}export const c = a;\n`), [], file);
  }
});

test('src/editor and src/panel never import each other; both import src/host, which imports neither', async () => {
  await assertRefused([['src/panel/x.ts', '../editor/runs']], /src\/panel and src\/editor never import each other/);
  await assertRefused([['src/editor/x.ts', '../panel/panelBridge']], /src\/editor and src\/panel never import each other/);
  await assertRefused(
    [
      ['src/host/x.ts', '../editor/runs'],
      ['src/host/x.ts', '../panel/panelBridge'],
      ['src/host/x.ts', '../runner/workerClient'],
    ],
    /src\/host is what the editor and the panel share/,
  );
  const viaHost =
    "import * as vscode from 'vscode';\nimport type { PanelView } from '../host/panelView';\nexport const c = [vscode] as unknown as PanelView;\n";
  for (const file of ['src/editor/x.ts', 'src/panel/x.ts']) assert.deepEqual(await boundaryErrors(file, viaHost), [], file);
  assert.deepEqual(
    await boundaryErrors('src/host/x.ts', "import type { RunEvent } from '../protocol';\nexport const c = [] as unknown as RunEvent;\n"),
    [],
  );
});

test("src/runlog may not import the editor or the panel; src/library (in the user's process) not the host side either", async () => {
  await assertRefused(
    [
      ['src/runlog/x.ts', '../editor/runs'],
      ['src/runlog/x.ts', '../panel/panelBridge'],
      ['src/runlog/x.ts', '../host/runResults'],
    ],
    /src\/runlog is shared/,
  );
  await assertRefused(
    [
      ['src/library/x.ts', '../runner/pythonClient'],
      ['src/library/x.ts', '../cli/report'],
    ],
    /src\/library runs in the user's own training process/,
  );
  const allowed =
    "import { RunLogWriter } from '../runlog/writer';\nimport { Instrumenter } from '../worker/instrument/hooks';\nexport const c = [RunLogWriter, Instrumenter];\n";
  assert.deepEqual(await boundaryErrors('src/library/x.ts', allowed), []);
});

test('src/editor, src/panel and src/extension.ts may import vscode', async () => {
  for (const file of ['src/editor/x.ts', 'src/panel/x.ts', 'src/extension.ts']) {
    assert.deepEqual(await boundaryErrors(file, "import * as vscode from 'vscode';\nexport const v = vscode;\n"), [], file);
  }
});

test('src/analysis, src/refactor, src/cli, src/diagnosis, src/userCode and src/host may not import vscode', async () => {
  const pure = ['src/analysis/x.ts', 'src/refactor/x.ts', 'src/cli/x.ts', 'src/diagnosis/detectors/x.ts', 'src/userCode/x.ts'];
  for (const file of [...pure, 'src/host/x.ts']) {
    assert.equal((await boundaryErrors(file, "import * as vscode from 'vscode';\nexport const v = vscode;\n")).length, 1, file);
  }
});

test('webview/ imports only src/protocol, its own files and packages', async () => {
  const allowed =
    "import type { Finding } from '../src/protocol';\nimport { el } from './dom';\nimport { Chart } from 'chart.js';\nexport const x = [el, Chart] as unknown as Finding;\n";
  assert.deepEqual(await boundaryErrors('webview/x.ts', allowed), []);
  assert.deepEqual(
    await boundaryErrors(
      'webview/views/x.ts',
      "import type { StatName } from '../../src/protocol';\nimport { el } from '../dom';\nexport const x = el as unknown as StatName;\n",
    ),
    [],
  );
  await assertRefused(
    [
      ['webview/x.ts', '../src/runner/workerClient'],
      ['webview/x.ts', '../src/protocolHelpers'],
      ['webview/views/x.ts', '../../src/editor/runs'],
    ],
    /webview\/ is a browser bundle/,
  );
  await assertRefused([['webview/x.ts', 'vscode']], /may import vscode/);
});

test('a function over 80 lines (blank lines and comments not counted) is an error in src/ and webview/', async () => {
  const body = (lines: number) =>
    `export function f(): number {\n  let x = 0;\n${'  x++;\n  // why\n\n'.repeat(lines - 4)}  return x;\n}\n`;
  for (const file of ['src/worker/x.ts', 'webview/x.ts']) {
    const [long] = await eslint.lintText(body(81), { filePath: path.join(ROOT, file) });
    assert.deepEqual(
      long.messages.map((m) => m.ruleId),
      ['max-lines-per-function'],
      file,
    );
    const [short] = await eslint.lintText(body(80), { filePath: path.join(ROOT, file) });
    assert.deepEqual(short.messages, [], file);
  }
});
