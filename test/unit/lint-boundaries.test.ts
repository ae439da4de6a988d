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

test('src/worker may not import vscode', async () => {
  const errors = await boundaryErrors('src/worker/x.ts', "import * as vscode from 'vscode';\nexport const v = vscode;\n");
  assert.equal(errors.length, 1);
  assert.match(errors[0], /Only src\/editor, src\/panel and src\/extension\.ts may import vscode/);
});

test('src/worker may not import the host side (src/runner, src/editor, src/panel)', async () => {
  for (const [file, from] of [
    ['src/worker/x.ts', '../runner/workerClient'],
    ['src/worker/loader/x.ts', '../../editor/runs'],
    ['src/worker/x.ts', '../panel'],
  ]) {
    const errors = await boundaryErrors(file, `import { a } from '${from}';\nexport const b = a;\n`);
    assert.equal(errors.length, 1, `${file} importing ${from}`);
    assert.match(errors[0], /src\/worker runs in its own process/);
  }
});

test('src/worker may import src/protocol and its own files', async () => {
  const source = "import { errorMessage } from '../protocol';\nimport { b } from './loader/bundle';\nexport const c = [errorMessage, b];\n";
  assert.deepEqual(await boundaryErrors('src/worker/x.ts', source), []);
});

test("src/runlog may not import the editor or the panel; src/library (in the user's process) not the host side either", async () => {
  for (const [file, from, message] of [
    ['src/runlog/x.ts', '../editor/runs', /src\/runlog is shared/],
    ['src/runlog/x.ts', '../panel/panelBridge', /src\/runlog is shared/],
    ['src/library/x.ts', '../runner/pythonClient', /src\/library runs in the user's own training process/],
    ['src/library/x.ts', '../cli/report', /src\/library runs in the user's own training process/],
  ] as const) {
    const errors = await boundaryErrors(file, `import { a } from '${from}';\nexport const b = a;\n`);
    assert.equal(errors.length, 1, `${file} importing ${from}`);
    assert.match(errors[0], message);
  }
  const allowed =
    "import { RunLogWriter } from '../runlog/writer';\nimport { Instrumenter } from '../worker/instrument/hooks';\nexport const c = [RunLogWriter, Instrumenter];\n";
  assert.deepEqual(await boundaryErrors('src/library/x.ts', allowed), []);
});

test('src/editor, src/panel and src/extension.ts may import vscode', async () => {
  for (const file of ['src/editor/x.ts', 'src/panel/x.ts', 'src/extension.ts']) {
    assert.deepEqual(await boundaryErrors(file, "import * as vscode from 'vscode';\nexport const v = vscode;\n"), [], file);
  }
});

test('src/analysis, src/refactor and src/cli may not import vscode', async () => {
  for (const file of ['src/analysis/x.ts', 'src/refactor/x.ts', 'src/cli/x.ts']) {
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
  for (const [file, from] of [
    ['webview/x.ts', '../src/runner/workerClient'],
    ['webview/x.ts', '../src/protocolHelpers'],
    ['webview/views/x.ts', '../../src/editor/runs'],
    ['webview/x.ts', 'vscode'],
  ]) {
    assert.equal(
      (await boundaryErrors(file, `import { a } from '${from}';\nexport const b = a;\n`)).length,
      1,
      `${file} importing ${from}`,
    );
  }
});
