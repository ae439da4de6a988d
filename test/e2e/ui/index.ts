/**
 * UI tests: a user in the real VS Code workbench (web client of the VS Code server) in headless Chromium.
 * Each test gets a fresh server and a fresh copy of test/fixtures/workspace (see scripts/e2e.mjs).
 */
import * as assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { builderFlowTests } from './builderFlows';
import { editorFlowTests } from './editorFlows';
import { firstRunTests } from './firstRun';
import { packagedTests } from './packagedFlow';
import { panelFlowTests } from './panelFlows';
import { pytorchFlowTests } from './pytorchFlow';
import { findWebviewFrame, hoverOver, LayersView, openFile, paintedCanvases, runCommand, waitFor, waitForWorkbench } from './workbench';

export interface UiTestContext {
  workspace: string;
  resultsDir: string;
  server: { dir: string };
}
export interface UiTest {
  name: string;
  /** Open the workspace with workspace trust on (and so untrusted). */
  untrusted?: boolean;
  settings?: Record<string, unknown>;
  /** Subfolder of the workspace copy to open. */
  folder?: string;
  /** Start with the settings `npm start` uses (scripts/vscode-server.mjs demoSettings). */
  demo?: boolean;
  /** Set up the fresh workspace copy before VS Code opens it. */
  prepare?(workspace: string): void;
  /** Run against the packaged .vsix installed with --install-extension instead of a copy of the checkout. */
  packaged?: boolean;
  run(page: Page, ctx: UiTestContext): Promise<void>;
}

export const uiTests: UiTest[] = [
  {
    name: 'workbench shows the NormScope view container and its Layers view',
    async run(page) {
      await waitForWorkbench(page);
      const layers = new LayersView(page);
      await layers.open();
      await layers.sideBar
        .locator('.composite.title', { hasText: /NormScope/i })
        .first()
        .waitFor();
      await page.locator('.welcome-view-content', { hasText: 'Check Normalization in This File' }).first().waitFor();
    },
  },
  {
    name: 'hovering a layer call names the layer',
    async run(page) {
      await waitForWorkbench(page);
      await openFile(page, 'mlp.js');
      const text = await hoverOver(page, 'batchNormalization', /BatchNormalization/);
      assert.match(text, /NormScope/);
    },
  },
  {
    name: 'command palette run + panel: the chart canvases draw non-blank pixels',
    async run(page) {
      await waitForWorkbench(page);
      await openFile(page, 'mlp.js');
      await runCommand(page, 'NormScope: Check Normalization in This File');
      // The run opens the panel beside the editor, and the keyboard stays in the editor.
      await findWebviewFrame(page, 'canvas');
      const inEditor = await page.evaluate(() => !!document.activeElement?.closest('.monaco-editor'));
      assert.ok(inEditor, 'the panel took the keyboard focus from the editor');
      await runCommand(page, 'NormScope: Show Training Health Panel');
      const frame = await findWebviewFrame(page, 'canvas');
      await waitFor('painted chart canvases', async () => (await paintedCanvases(frame)) >= 2, 60_000);
    },
  },
  ...editorFlowTests,
  ...builderFlowTests,
  ...panelFlowTests,
  ...firstRunTests,
  ...pytorchFlowTests,
  ...packagedTests,
];
