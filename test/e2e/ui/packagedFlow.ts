/**
 * The packaged extension: `npm run package` → normscope.vsix, installed with `--install-extension` into a fresh
 * extensions folder (scripts/e2e.mjs, `packaged: true`), with no development path. One check runs through it, so the
 * worker, the wasm binaries, the bundled esbuild and the webview all come from the package. Prints the activation,
 * analysis-load and hover figures of the packaged build (not asserted: shared machines are noisy).
 */
import * as assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { bigModelFile } from '../../bench/bigModelFile';
import type { UiTest } from './index';
import { findWebviewFrame, hoverOver, openFile, paintedCanvases, runCommand, waitFor, waitForWorkbench } from './workbench';

/** The extension's log lines (the NormScope output channel, written under the server's data folder). */
function normScopeLog(dir: string): string {
  const found: string[] = [];
  const walk = (d: string): void => {
    for (const entry of readdirSync(d)) {
      const p = join(d, entry);
      if (statSync(p).isDirectory()) walk(p);
      else if (/NormScope\.log$/.test(entry)) found.push(readFileSync(p, 'utf8'));
    }
  };
  walk(dir);
  return found.join('\n');
}

async function timedHover(page: Page, text: string): Promise<number> {
  await page.mouse.move(5, 5);
  const started = Date.now();
  await hoverOver(page, text, /NormScope/);
  return Date.now() - started;
}

export const packagedTests: UiTest[] = [
  {
    name: 'packaged .vsix: installed with --install-extension, a check runs through it (worker, wasm, webview from the package)',
    packaged: true,
    async run(page, ctx) {
      const installed = readdirSync(join(ctx.server.dir, 'extensions')).filter((d) => d.startsWith('normscope.'));
      assert.equal(installed.length, 1, `expected the one installed NormScope, found ${installed.join(', ')}`);
      writeFileSync(join(ctx.workspace, 'big-model.js'), bigModelFile());
      await waitForWorkbench(page);
      // Hovers first, while the analysis bundle has not been needed yet.
      await openFile(page, 'big-model.js');
      const firstHoverMs = await timedHover(page, 'layerNormalization');
      const secondHoverMs = await timedHover(page, 'batchNormalization');

      await openFile(page, 'mlp.js');
      await runCommand(page, 'NormScope: Check Normalization in This File');
      const frame = await findWebviewFrame(page, '[data-testid="run-status"]');
      await waitFor(
        'the run to finish in the panel',
        async () => /^Done/.test(await frame.locator('[data-testid="run-status"]').innerText()),
        180_000,
      );
      assert.equal(
        await frame.locator('[data-testid="backend"]').innerText(),
        'Backend: wasm',
        'the wasm binaries did not load from the package',
      );
      await waitFor('painted chart canvases', async () => (await paintedCanvases(frame)) >= 2, 60_000);

      const log = normScopeLog(ctx.server.dir);
      const figure = (re: RegExp) => Number(re.exec(log)?.[1] ?? Number.NaN);
      console.log(
        `  packaged extension: ${JSON.stringify({
          activateMs: figure(/activated in ([\d.]+) ms/),
          bundleLoadToActivateMs: figure(/bundle load to activate: ([\d.]+) ms/),
          analysisLoadMs: figure(/analysis \(dist\/analysis\.js\) loaded on first use in ([\d.]+) ms/),
          analysisLoadedVia: /loaded on first use in [\d.]+ ms \(([^)]*)\)/.exec(log)?.[1],
          firstParseMs: figure(/first parsed .* in ([\d.]+) ms/),
          firstHoverInPageMs: firstHoverMs,
          secondHoverInPageMs: secondHoverMs,
          note: 'hover times are seen from the page: they include the 300 ms hover delay and rendering',
        })}`,
      );
      assert.match(log, /activated in/, 'no activation line in the NormScope log');
      // A fresh install has no code cache yet: the first load compiles, through the cache path (not a fallback).
      assert.match(log, /loaded on first use in [\d.]+ ms \(code cache miss\)/, 'dist/analysis.js did not load through the code cache');
    },
  },
];
