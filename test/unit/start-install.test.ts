// `npm start` (and every e2e suite but the packaged one) installs NormScope as a copy of exactly the files the .vsix
// ships: scripts/vscode-server.mjs asks vsce for the list it packages from .vscodeignore, so the PyTorch engine and
// the walkthrough's examples are there and nothing the package lacks (node_modules) is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { WORKER } from './engine-fixtures';

const SERVER_SCRIPT = join(dirname(WORKER), '..', 'scripts', 'vscode-server.mjs');

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const p = join(dir, entry);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

test('npm start installs exactly the files the .vsix ships, the PyTorch engine and both examples among them', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'normscope-start-'));
  try {
    const script = `import { installCopy, shippedFiles } from ${JSON.stringify(pathToFileURL(SERVER_SCRIPT).href)};
      const target = await installCopy(${JSON.stringify(dir)});
      process.stdout.write(JSON.stringify({ target, shipped: await shippedFiles() }));`;
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ['--input-type=module', '-e', script], { timeout: 120_000 }, (e, stdout, stderr) =>
        e ? reject(new Error(`${e.message}\n${stderr}`)) : resolve(stdout),
      ),
    );
    const { target, shipped } = JSON.parse(out) as { target: string; shipped: string[] };
    const installed = filesUnder(target).map((f) => relative(target, f).split('\\').join('/'));
    assert.deepEqual(installed.sort(), [...shipped].sort());
    for (const needed of [
      'python/normscope/engine/__main__.py',
      'python/normscope/engine/lifetime.py',
      'python/normscope/engine/landlock.py',
      'python/normscope/measuring/hooks.c',
      'python/pyproject.toml',
      'examples/small-batch-bn.js',
      'examples/small_batch_bn.py',
      // The page each diagnostic's code links to (src/editor/findingRanges.ts FINDINGS_DOC).
      'docs/findings.md',
      'dist/worker.js',
      'package.json',
    ])
      assert.ok(installed.includes(needed), `npm start's copy lacks ${needed}`);
    assert.ok(!installed.some((f) => f.startsWith('node_modules/') || f.endsWith('.map') || f.startsWith('test/')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
