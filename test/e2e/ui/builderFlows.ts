/** A model factory with parameters: its own CodeLens → the input box showing its signature → a run → hover numbers. */
import * as assert from 'node:assert/strict';
import type { Locator, Page } from 'playwright-core';
import type { UiTest } from './index';
import { hoverOver, openFile, runCommand, waitFor, waitForWorkbench } from './workbench';

/** Opens `file`, clicks its first "▶ Check normalization" lens and returns the quick-input widget it opens. */
async function clickCheckLens(page: Page, file: string): Promise<Locator> {
  await waitForWorkbench(page);
  await openFile(page, file);
  const lens = page.locator('.codelens-decoration a', { hasText: 'Check normalization' }).first();
  await lens.waitFor({ timeout: 30_000 });
  await lens.click();
  return page.locator('.quick-input-widget');
}

/** Waits for a CodeLens whose text holds `text` (a run summary, the remembered arguments). */
function lensWith(page: Page, what: string, text: string, timeoutMs: number): Promise<boolean> {
  return waitFor(what, async () => (await page.locator('.codelens-decoration', { hasText: text }).count()) > 0, timeoutMs);
}

export const builderFlowTests: UiTest[] = [
  {
    name: "function with parameters: CodeLens asks for the arguments (signature shown, bad input refused), runs, hover shows the layer's numbers",
    async run(page) {
      const box = await clickCheckLens(page, 'factory-args.js');
      await box.locator('.quick-input-title', { hasText: 'createModel(inputSize, units = 16)' }).waitFor({ timeout: 20_000 });
      const input = box.locator('input.input').first();
      await input.fill('foo()');
      await waitFor('the input box refusing code', async () => /not a literal value/.test(await box.innerText()), 10_000);
      await input.fill('');
      await waitFor(
        'the input box naming the missing parameter',
        async () => /needs a value for inputSize/.test(await box.innerText()),
        10_000,
      );
      await input.fill('8');
      await input.press('Enter');
      await page.locator('.notification-toast', { hasText: 'NormScope' }).first().waitFor({ timeout: 30_000 });
      await lensWith(page, 'the run summary CodeLens', 'backend', 120_000);
      await lensWith(page, 'the remembered-arguments CodeLens', 'args: 8', 20_000);
      const hover = await hoverOver(page, "batchNormalization({ name: 'norm'", /norm[\s\S]*(mean|grad-norm)/);
      assert.match(hover, /BatchNormalization/);
    },
  },
  {
    name: 'call-site arguments are offered as a choice, remembered, and changed with "NormScope: Change Arguments…"',
    async run(page) {
      const box = await clickCheckLens(page, 'text-model.js');
      const site = box.locator('.monaco-list-row', { hasText: 'createTextModel(SAMPLE_LEN, 12)' }).first();
      await site.waitFor({ timeout: 20_000 });
      assert.match(await site.innerText(), /train-text\.js:7[\s\S]*arguments: 10, 12/);
      await site.click();
      await lensWith(page, 'the run summary CodeLens', 'backend', 120_000);
      await lensWith(page, 'the remembered-arguments CodeLens', 'args: 10, 12', 20_000);
      await runCommand(page, 'NormScope: Change Arguments…');
      await box.locator('.monaco-list-row', { hasText: 'Edit the arguments' }).first().click();
      const input = box.locator('input.input').first();
      await waitFor('the remembered arguments in the input box', async () => (await input.inputValue()) === '10, 12', 10_000);
      await input.fill('6, 12');
      await input.press('Enter');
      await lensWith(page, 'the changed-arguments CodeLens', 'args: 6, 12', 120_000);
      await hoverOver(page, 'lstm({ units: 8', /lstm[\s\S]*(mean|grad-norm)/);
    },
  },
];
