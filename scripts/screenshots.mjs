// `npm run screenshots`: the README's picture, taken from the running product. Starts VS Code (server) with
// NormScope as `npm start` does, opens examples/ in headless Chromium (playwright-core, as the e2e tests do), checks
// examples/dead-relu.js from its CodeLens, opens the Layers view, hovers the squiggle of the dead layer with the
// training-health panel beside the editor, and saves docs/screenshot.png. Needs `npm run build` first (it reuses the
// UI tests' workbench helpers from dist/test/e2e/ui) and Chromium (CHROMIUM_PATH, default /usr/bin/chromium).
// Usage: node scripts/screenshots.mjs [--out docs/screenshot.png]
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { demoSettings, repoRoot, startVscodeServer } from './vscode-server.mjs';

const require = createRequire(import.meta.url);
const { values } = parseArgs({ options: { out: { type: 'string' } } });
const out = resolve(values.out ?? join(repoRoot, 'docs', 'screenshot.png'));
const helpers = join(repoRoot, 'dist', 'test', 'e2e', 'ui', 'workbench.js');
if (!existsSync(helpers)) {
  console.error(`screenshots: ${helpers} is missing; run npm run build first`);
  process.exit(2);
}
const { findWebviewFrame, hoverOver, LayersView, openFile, paintedCanvases, runCommand, waitFor, waitForWorkbench } = require(helpers);
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Drags the open hover's bottom resize edge down by `by` pixels; false when it has none. */
async function enlargeHover(page, by) {
  const edge = await page.evaluate(() => {
    const hover = document.querySelector('.monaco-hover:not(.hidden)');
    if (!hover) return null;
    const h = hover.getBoundingClientRect();
    for (const sash of Array.from(document.querySelectorAll('.monaco-sash.horizontal'))) {
      const r = sash.getBoundingClientRect();
      const y = r.top + r.height / 2;
      if (r.width > 0 && Math.abs(y - h.bottom) < 12 && r.left < h.right && r.right > h.left)
        return { x: (Math.max(r.left, h.left) + Math.min(r.right, h.right)) / 2, y };
    }
    return null;
  });
  if (!edge) return false;
  await page.mouse.move(edge.x, edge.y, { steps: 4 });
  await page.mouse.down();
  await page.mouse.move(edge.x, edge.y + by, { steps: 10 });
  await page.mouse.up();
  return true;
}

const server = await startVscodeServer({
  settings: {
    ...demoSettings,
    'security.workspace.trust.enabled': false,
    'workbench.colorTheme': 'Default Dark Modern',
    'editor.minimap.enabled': false,
  },
});
const browser = await chromium.launch({
  executablePath: chromiumPath,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'],
  headless: true,
});
const page = await (await browser.newContext({ viewport: { width: 1600, height: 900 } })).newPage();
try {
  await page.goto(server.urlFor(join(repoRoot, 'examples')));
  await waitForWorkbench(page);
  await openFile(page, 'dead-relu.js');
  await page.locator('.codelens-decoration a', { hasText: 'Check normalization' }).first().click();
  await waitFor(
    'the run summary CodeLens',
    async () => (await page.locator('.codelens-decoration', { hasText: 'backend' }).count()) > 0,
    180_000,
  );
  const frame = await findWebviewFrame(page, 'canvas', 60_000);
  await waitFor('painted chart canvases', async () => (await paintedCanvases(frame)) >= 2, 60_000);
  await new LayersView(page).open();
  await runCommand(page, 'Notifications: Clear All Notifications');
  await openFile(page, 'dead-relu.js');
  await waitFor('a squiggle in the editor', async () => (await page.locator('.monaco-editor [class*="squiggly-"]').count()) > 0, 30_000);
  // The squiggle sits on the dense layer whose bias of −10 kills its ReLU: its hover has the finding and the numbers.
  await hoverOver(page, "dense({ units: 32, activation: 'relu', bias", /dead/, 30_000);
  // VS Code caps a hover at a quarter of the editor's height; drag its bottom edge down so the numbers and the trend
  // sparkline show too (the mouse stays on the hover, so it stays open).
  if (!(await enlargeHover(page, 260))) console.warn('screenshots: the hover has no resize edge; it stays at its default height');
  await page.screenshot({ path: out });
  console.log(`screenshots: wrote ${out}`);
} catch (e) {
  const failed = join(repoRoot, 'test-results', 'screenshots-failed.png');
  await page.screenshot({ path: failed }).catch(() => undefined);
  console.error(`screenshots: failed; the page as it was is in ${failed}`);
  throw e;
} finally {
  await browser.close();
  await server.stop();
}
