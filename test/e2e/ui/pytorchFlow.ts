/**
 * The demo as `npm start` gives it: NormScope installed the way scripts/vscode-server.mjs installs it for `npm start`
 * (a copy of exactly the files the .vsix ships, not a development path), examples/ open, and a PyTorch example checked
 * there through the user's Python, with live numbers in the hover afterwards.
 */
import * as assert from 'node:assert/strict';
import { cpSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { UiTest } from './index';
import { findWebviewFrame, hoverOver, openFile, runCommand, waitFor, waitForWorkbench } from './workbench';

/** The checkout's examples/ folder (this file runs from dist/test/e2e/ui). */
const EXAMPLES = join(__dirname, '..', '..', '..', '..', 'examples');

export const pytorchFlowTests: UiTest[] = [
  {
    name: 'npm start demo: the PyTorch example in examples/ checks through the installed copy, live numbers in the hover',
    demo: true,
    folder: 'examples',
    prepare(workspace) {
      cpSync(EXAMPLES, join(workspace, 'examples'), { recursive: true });
    },
    async run(page, ctx) {
      const extensions = join(ctx.server.dir, 'extensions');
      const installed = readdirSync(extensions).filter((d) => d.startsWith('normscope.'));
      assert.equal(installed.length, 1, `expected the one installed NormScope, found ${installed.join(', ')}`);
      assert.ok(
        existsSync(join(extensions, installed[0], 'python', 'normscope', 'engine', '__main__.py')),
        'the installed copy has no engine',
      );
      await waitForWorkbench(page);
      await openFile(page, 'small_batch_bn.py');
      await runCommand(page, 'NormScope: Check Normalization in This File');
      const frame = await findWebviewFrame(page, '[data-testid="run-status"]');
      const status = frame.locator('[data-testid="run-status"]');
      await waitFor('the PyTorch run to finish in the panel', async () => /^(Done|Failed|Error)/i.test(await status.innerText()), 180_000);
      const toasts = await page.locator('.notification-toast').allInnerTexts();
      assert.match(await status.innerText(), /^Done/, `the PyTorch run did not finish: ${toasts.join(' | ')}`);
      await openFile(page, 'small_batch_bn.py');
      const hover = await hoverOver(page, 'nn.BatchNorm1d(out_features)', /\bmean\s+-?\d[\s\S]*\bvariance\s+\d/, 60_000);
      assert.match(hover, /body\.0\.1 · BatchNorm1d/);
    },
  },
];
