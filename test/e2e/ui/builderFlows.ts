/** A model factory with parameters: its own CodeLens → the input box showing its signature → a run → hover numbers. */
import * as assert from 'node:assert/strict';
import type { UiTest } from './index';
import { hoverOver, openFile, until, waitForWorkbench } from './workbench';

export const builderFlowTests: UiTest[] = [
  {
    name: 'function with parameters: CodeLens asks for the arguments (signature shown, bad input refused), runs, hover shows the layer\'s numbers',
    async run(page) {
      await waitForWorkbench(page);
      await openFile(page, 'factory-args.js');
      const lens = page.locator('.codelens-decoration a', { hasText: 'Check normalization' }).first();
      await lens.waitFor({ timeout: 30_000 });
      await lens.click();
      const box = page.locator('.quick-input-widget');
      await box.locator('.quick-input-title', { hasText: 'createModel(inputSize, units = 16)' }).waitFor({ timeout: 20_000 });
      const input = box.locator('input.input').first();
      await input.fill('foo()');
      await until('the input box refusing code', async () => /not a literal value/.test(await box.innerText()), 10_000, page);
      await input.fill('');
      await until('the input box naming the missing parameter', async () => /needs a value for inputSize/.test(await box.innerText()), 10_000, page);
      await input.fill('8');
      await input.press('Enter');
      await page.locator('.notification-toast', { hasText: 'NormScope' }).first().waitFor({ timeout: 30_000 });
      await until('the run summary CodeLens', async () => (await page.locator('.codelens-decoration', { hasText: 'backend' }).count()) > 0, 120_000, page);
      await until('the remembered-arguments CodeLens', async () => (await page.locator('.codelens-decoration', { hasText: 'args: 8' }).count()) > 0, 20_000, page);
      const hover = await hoverOver(page, "batchNormalization({ name: 'norm'", /norm[\s\S]*(mean|grad-norm)/);
      assert.match(hover, /BatchNormalization/);
    },
  },
];
