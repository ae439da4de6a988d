/** Acting as a user in the VS Code workbench (web) through Playwright. Selectors follow VS Code 1.96's DOM. */
import type { Frame, Locator, Page } from 'playwright-core';
import { waitFor } from '../poll';

export { waitFor } from '../poll';

export async function waitForWorkbench(page: Page): Promise<void> {
  await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
  await page.locator('.activitybar').waitFor({ timeout: 60_000 });
  // The explorer shows once the remote extension host is connected and the folder is open.
  await page.locator('.explorer-folders-view, .explorer-viewlet').first().waitFor({ timeout: 60_000 });
}

/**
 * Open a quick-input picker with `key`, type `text` and click the row showing `rowText`. Keys go to whatever has
 * focus; a webview iframe (the panel opens beside the editor) can hold it and swallow F1, so focus is moved back to
 * the workbench first and the whole pick is retried a few times before failing.
 */
async function pick(page: Page, key: string, text: string, rowText: string): Promise<void> {
  const input = page.locator('.quick-input-widget input.input');
  const row = page.locator('.quick-input-widget .monaco-list-row', { hasText: rowText }).first();
  for (let attempt = 1; ; attempt++) {
    try {
      await page.evaluate(() => {
        const active = document.activeElement as HTMLElement | null;
        if (active?.tagName === 'IFRAME') active.blur();
      });
      await page.keyboard.press(key);
      await input.waitFor({ state: 'visible', timeout: 5_000 });
      await input.fill(text);
      await row.waitFor({ timeout: 15_000 });
      break;
    } catch (err) {
      if (attempt >= 3) throw err;
      await page.keyboard.press('Escape').catch(() => undefined);
      await page.waitForTimeout(500);
    }
  }
  // Not retried from here on: a second click could run the command twice.
  await row.click();
  // The pick is done when the widget hides, or when it shows something else: a command that asks with its own
  // QuickPick (Change Arguments…) reuses the same widget at once, so it may never be seen hidden.
  await page.waitForFunction(
    (typed) => {
      const el = document.querySelector<HTMLInputElement>('.quick-input-widget input.input');
      return !el || el.offsetParent === null || el.value !== typed;
    },
    text,
    { timeout: 10_000 },
  );
}

/** Run a command by its palette title ("NormScope: Show Training Health Panel"). */
export async function runCommand(page: Page, title: string): Promise<void> {
  await pick(page, 'F1', `>${title}`, title);
}

/** Open a workspace file with Quick Open and wait for its editor. */
export async function openFile(page: Page, name: string): Promise<void> {
  await pick(page, 'Control+P', name, name);
  await page.locator(`.tab.active[aria-label*="${name}"]`).first().waitFor({ timeout: 20_000 });
  await page.locator('.monaco-editor .view-lines').first().waitFor();
}

/** Hover the first occurrence of `text` in the visible editor and return the hover's text. */
/**
 * Screen position of the first occurrence of `text` in the rendered editor lines. Monaco splits a line into
 * one span per token, so the match is found in the line's text and mapped back to the token holding its start.
 */
async function textPosition(page: Page, text: string): Promise<{ x: number; y: number } | null> {
  return page.evaluate((t) => {
    for (const line of Array.from(document.querySelectorAll('.monaco-editor .view-lines .view-line'))) {
      const nodes: Text[] = [];
      const walker = document.createTreeWalker(line, NodeFilter.SHOW_TEXT);
      for (let n = walker.nextNode(); n; n = walker.nextNode()) nodes.push(n as Text);
      const full = nodes
        .map((n) => n.data)
        .join('')
        .replace(/\u00a0/g, ' ');
      let at = full.indexOf(t);
      if (at < 0) continue;
      for (const node of nodes) {
        if (at < node.data.length) {
          const range = document.createRange();
          range.setStart(node, at);
          range.setEnd(node, Math.min(node.data.length, at + 2));
          const r = range.getBoundingClientRect();
          return { x: r.left + r.width / 2, y: r.top + r.height / 2 };
        }
        at -= node.data.length;
      }
    }
    return null;
  }, text);
}

export async function hoverOver(page: Page, text: string, expect: RegExp, timeoutMs = 20_000): Promise<string> {
  await waitFor(`'${text}' in the editor`, () => textPosition(page, text), 20_000);
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const pos = await textPosition(page, text);
    if (pos) await page.mouse.move(pos.x, pos.y);
    const hover = page.locator('.monaco-hover:not(.hidden) .monaco-hover-content, .monaco-hover:not(.hidden) .hover-contents').first();
    try {
      await hover.waitFor({ timeout: 3000 });
      last = await hover.innerText();
      if (expect.test(last)) return last;
    } catch {
      /* hover not shown yet */
    }
    await page.mouse.move(5, 5);
    await page.waitForTimeout(300);
  }
  throw new Error(`hover over '${text}' never matched ${expect}; last hover text: ${JSON.stringify(last)}`);
}

/** The innermost webview frame whose document has `selector`. */
export async function findWebviewFrame(page: Page, selector: string, timeoutMs = 30_000): Promise<Frame> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const frame of page.frames()) {
      if (frame === page.mainFrame()) continue;
      const found = await frame.evaluate((s) => !!document.querySelector(s), selector).catch(() => false);
      if (found) return frame;
    }
    await page.waitForTimeout(250);
  }
  throw new Error(`no webview frame contains '${selector}'`);
}

/** Count canvases in the frame that have drawn non-blank pixels (more than one colour). */
export async function paintedCanvases(frame: Frame): Promise<number> {
  return frame.evaluate(() => {
    let painted = 0;
    for (const canvas of Array.from(document.querySelectorAll('canvas'))) {
      const c = canvas.getContext('2d');
      if (!c || canvas.width === 0 || canvas.height === 0) continue;
      const data = c.getImageData(0, 0, canvas.width, canvas.height).data;
      const colours = new Set<number>();
      for (let i = 0; i < data.length && colours.size < 3; i += 4 * 7) {
        if (data[i + 3] > 0) colours.add((data[i] << 16) | (data[i + 1] << 8) | data[i + 2]);
      }
      if (colours.size >= 2) painted++;
    }
    return painted;
  });
}

/** Page object for NormScope's view container: its activity-bar item and the Layers view it shows in the side bar. */
export class LayersView {
  constructor(private readonly page: Page) {}

  /** Clicks NormScope's activity-bar item (once it has appeared), which shows the Layers view. */
  async open(): Promise<void> {
    const item = this.page
      .locator('.activitybar .action-item a[aria-label^="NormScope"], .activitybar .action-item[aria-label^="NormScope"]')
      .first();
    await item.waitFor({ timeout: 30_000 });
    await item.click();
  }

  get sideBar(): Locator {
    return this.page.locator('.part.sidebar');
  }

  /** The Layers view's row of the layer named `name`. */
  row(name: string): Locator {
    return this.sideBar.locator('.monaco-list-row', { hasText: name }).first();
  }
}
