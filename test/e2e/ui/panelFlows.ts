/** The training-health panel inside VS Code: depth profile highlight, reveal-in-editor, PNG export, hostile names. */
import * as assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Frame, Page } from 'playwright-core';
import type { UiTest } from './index';
import { findWebviewFrame, LayersView, openFile, waitFor, waitForWorkbench } from './workbench';

/** Run the open file from its CodeLens and return the panel's frame once the run is done. */
async function runFromCodeLens(page: Page): Promise<Frame> {
  await page.locator('.codelens-decoration a', { hasText: 'Check normalization' }).first().click();
  await waitFor(
    'the run summary CodeLens',
    async () => (await page.locator('.codelens-decoration', { hasText: 'backend' }).count()) > 0,
    120_000,
  );
  return findWebviewFrame(page, '[data-testid="depth-table"]');
}

async function showTab(frame: Frame, name: RegExp): Promise<void> {
  await frame.getByRole('tab', { name }).click();
}

export const panelFlowTests: UiTest[] = [
  {
    name: 'panel: the dead layer is highlighted in the depth profile and Reveal in editor jumps to its line',
    async run(page) {
      await waitForWorkbench(page);
      await openFile(page, 'dead.js');
      const frame = await runFromCodeLens(page);
      await showTab(frame, /Depth profile/);
      const row = frame.locator('[data-testid="depth-row"]', { hasText: 'dead_relu' });
      await row.waitFor();
      assert.match((await row.getAttribute('data-severity')) ?? '', /error|warning/, 'dead_relu is not highlighted by severity');
      const okRow = frame.locator('[data-testid="depth-row"]', { hasText: 'ok_relu' });
      assert.equal(await okRow.getAttribute('data-severity'), 'none');
      await row.locator('[data-testid="depth-open"]').click();
      await frame.locator('[data-testid="detail-name"]', { hasText: 'dead_relu' }).waitFor();
      await frame.locator('[data-testid="reveal-layer"]').click();
      const selection = page.locator('#status\\.editor\\.selection, .statusbar-item[id="status.editor.selection"]').first();
      await waitFor(
        'the cursor on line 7 of dead.js',
        async () => /Ln 7,/.test(await selection.innerText()) && (await page.locator('.tab.active[aria-label*="dead.js"]').count()) > 0,
        20_000,
      );
      // The other way round: a layer clicked in the Layers view is revealed in the editor and focused in the panel.
      const layers = new LayersView(page);
      await layers.open();
      await layers.row('ok_relu').click();
      await waitFor('the cursor on line 6', async () => /Ln 6,/.test(await selection.innerText()), 20_000);
      await frame.locator('[data-testid="detail-name"]', { hasText: 'ok_relu' }).waitFor({ timeout: 20_000 });
    },
  },
  {
    name: 'panel: a chart exports as a PNG file through the save dialog',
    async run(page, ctx) {
      await waitForWorkbench(page);
      await openFile(page, 'mlp.js');
      const frame = await runFromCodeLens(page);
      await frame.locator('[data-testid="png-loss"]').click();
      // VS Code's save dialog (the simple file dialog in the browser) opens with the suggested path.
      const input = page.locator('.quick-input-widget input.input');
      await input.waitFor({ timeout: 20_000 });
      await page.keyboard.press('Enter');
      const file = await waitFor('a PNG in the workspace', async () => readdirSync(ctx.workspace).find((f) => f.endsWith('.png')), 20_000);
      const bytes = readFileSync(join(ctx.workspace, file));
      assert.deepEqual([...bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'not a PNG file');
      assert.ok(bytes.length > 2000, `PNG is only ${bytes.length} bytes`);
      assert.ok(existsSync(join(ctx.workspace, file)));
    },
  },
  {
    name: 'panel: a layer class named <img src=x onerror=alert(1)> shows literally and nothing runs',
    async run(page) {
      await waitForWorkbench(page);
      await openFile(page, 'xss.js');
      const frame = await runFromCodeLens(page);
      await frame.evaluate(() => {
        (window as unknown as { __alerted: boolean }).__alerted = false;
        window.alert = () => {
          (window as unknown as { __alerted: boolean }).__alerted = true;
        };
      });
      await showTab(frame, /Depth profile/);
      await frame.locator('[data-testid="depth-row"]', { hasText: 'hostile' }).locator('[data-testid="depth-open"]').click();
      await frame.locator('[data-testid="detail-meta"]', { hasText: '<img src=x onerror=alert(1)>' }).waitFor();
      assert.equal(await frame.locator('img[src="x"]').count(), 0, 'the layer name became an <img> element');
      await page.waitForTimeout(500);
      assert.equal(await frame.evaluate(() => (window as unknown as { __alerted: boolean }).__alerted), false);
    },
  },
];
