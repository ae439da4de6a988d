/** Issue-level user flows in the editor: CodeLens → progress → squiggle → Problems → hover → tree; cancel; trust. */
import * as assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import type { UiTest } from './index';
import { hoverOver, LayersView, openFile, runCommand, waitFor, waitForWorkbench } from './workbench';

/** Line number (1-based) of the first editor line containing `text`, read from the rendered editor. */
async function lineOf(page: Page, text: string): Promise<number> {
  return page.evaluate((t) => {
    const lines = Array.from(document.querySelectorAll<HTMLElement>('.monaco-editor .view-lines .view-line'));
    const line = lines.find((l) => (l.textContent ?? '').replace(/\u00a0/g, ' ').includes(t));
    if (!line) return -1;
    const top = line.style.top;
    const numbers = Array.from(document.querySelectorAll<HTMLElement>('.monaco-editor .margin-view-overlays > div'));
    const n = numbers.find((d) => d.style.top === top);
    return n ? Number(n.textContent?.trim()) : -1;
  }, text);
}

/** Kinds of squiggle ('warning' / 'error' / 'info') drawn on the given 1-based line. */
async function squigglesOnLine(page: Page, line: number): Promise<string[]> {
  return page.evaluate((ln) => {
    const numbers = Array.from(document.querySelectorAll<HTMLElement>('.monaco-editor .margin-view-overlays > div'));
    const n = numbers.find((d) => d.textContent?.trim() === String(ln));
    if (!n) return [];
    const overlays = Array.from(document.querySelectorAll<HTMLElement>('.monaco-editor .view-overlays > div')).filter(
      (d) => d.style.top === n.style.top,
    );
    return overlays.flatMap((o) =>
      Array.from(o.querySelectorAll('[class*="squiggly-"]')).map((s) => /squiggly-(\w+)/.exec(s.className)?.[1] ?? '?'),
    );
  }, line);
}

async function clickCodeLens(page: Page, text: string): Promise<void> {
  const lens = page.locator('.codelens-decoration a', { hasText: text }).first();
  await lens.waitFor({ timeout: 30_000 });
  await lens.click();
}

export const editorFlowTests: UiTest[] = [
  {
    name: 'dead layer: CodeLens run shows progress, squiggle on the line, Problems entry, hover numbers, tree icons',
    async run(page) {
      await waitForWorkbench(page);
      await openFile(page, 'dead.js');
      const deadLine = await waitFor('the dead_relu line', async () => {
        const n = await lineOf(page, "name: 'dead_relu'");
        return n > 0 ? n : undefined;
      });
      await clickCodeLens(page, 'Check normalization');
      await page.locator('.notification-toast', { hasText: 'NormScope' }).first().waitFor({ timeout: 30_000 });
      await waitFor(
        'the run summary CodeLens',
        async () => (await page.locator('.codelens-decoration', { hasText: 'backend' }).count()) > 0,
        120_000,
      );
      await waitFor(`a squiggle on line ${deadLine}`, async () => (await squigglesOnLine(page, deadLine)).length > 0, 30_000);
      await runCommand(page, 'View: Focus Problems');
      const problem = page.locator('.markers-panel .monaco-list-row', { hasText: 'dead_relu' }).first();
      await problem.waitFor({ timeout: 20_000 });
      assert.match(await problem.innerText(), new RegExp(`Ln ${deadLine}`));
      await openFile(page, 'dead.js');
      const hover = await hoverOver(page, 'dense({ units: 16', /dead_relu[\s\S]*dead\s*1\b/);
      assert.match(hover, /grad-norm|mean/);
      const layers = new LayersView(page);
      await layers.open();
      const deadRow = layers.row('dead_relu');
      const okRow = layers.row('ok_relu');
      await waitFor(
        'a warning/error icon on dead_relu in the Layers view',
        async () => (await deadRow.locator('.codicon-warning, .codicon-error').count()) > 0,
        20_000,
      );
      await waitFor('the ok icon on ok_relu in the Layers view', async () => (await okRow.locator('.codicon-pass').count()) > 0, 20_000);
    },
  },
  {
    name: 'Cancel in the progress notification stops a long run within 1 s',
    async run(page) {
      await waitForWorkbench(page);
      await openFile(page, 'slow.js');
      await clickCodeLens(page, 'Check normalization');
      const toast = page.locator('.notification-toast', { hasText: 'step' }).first();
      await toast.waitFor({ timeout: 60_000 });
      await toast.hover();
      await page.locator('.statusbar-item', { hasText: 'NormScope' }).first().waitFor({ timeout: 10_000 });
      // Timed inside the page, from the click until the toast is gone and the run's status-bar item is hidden (the
      // host hides it once the worker's run has ended), so Playwright's polling latency is not counted. The CodeLens
      // summary is checked after, untimed: VS Code debounces CodeLens refreshes by itself.
      const stopped = page.evaluate(
        () =>
          new Promise<number>((resolve, reject) => {
            let clickedAt: number | undefined;
            document.addEventListener(
              'mousedown',
              () => {
                clickedAt = performance.now();
              },
              { capture: true, once: true },
            );
            const shown = (selector: string, text: RegExp) =>
              Array.from(document.querySelectorAll<HTMLElement>(selector)).some(
                (t) => t.offsetParent !== null && text.test(t.textContent ?? ''),
              );
            const observer = new MutationObserver(() => {
              if (clickedAt === undefined || shown('.notification-toast', /step/) || shown('.statusbar-item', /NormScope/)) return;
              observer.disconnect();
              resolve(Math.max(1, Math.round(performance.now() - clickedAt)));
            });
            observer.observe(document.body, { childList: true, subtree: true, characterData: true });
            setTimeout(() => reject(new Error('the progress notification and the status-bar item never went')), 10_000);
          }),
      );
      await toast.locator('.monaco-button, a.monaco-button', { hasText: 'Cancel' }).first().click();
      const elapsed = await stopped;
      assert.ok(elapsed <= 1000, `cancel took ${elapsed} ms`);
      await waitFor(
        'the cancelled summary',
        async () => (await page.locator('.codelens-decoration', { hasText: 'cancelled' }).count()) > 0,
        10_000,
      );
    },
  },
  {
    name: 'untrusted workspace: a run explains that trust is required and nothing executes',
    untrusted: true,
    settings: { 'security.workspace.trust.startupPrompt': 'never', 'security.workspace.trust.banner': 'never' },
    async run(page) {
      await waitForWorkbench(page);
      await openFile(page, 'dead.js');
      await clickCodeLens(page, 'Check normalization');
      await page.locator('.notification-toast', { hasText: 'trusted workspace' }).first().waitFor({ timeout: 20_000 });
      await page.waitForTimeout(1500);
      assert.equal(await page.locator('.notification-toast', { hasText: 'step' }).count(), 0, 'a run started in an untrusted workspace');
      assert.equal(
        await page.locator('.codelens-decoration', { hasText: 'backend' }).count(),
        0,
        'a run summary appeared in an untrusted workspace',
      );
    },
  },
];
