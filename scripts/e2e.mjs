// E2E driver: runs NormScope in a real VS Code (the server from the code-server package) driven by headless
// Debian Chromium through playwright-core. Three parts, one closing line `N passed, N failed`:
//   1. the extension-host suite (mocha, runs inside the Node extension host via extensionTestsPath),
//   2. UI tests that act as a user in the workbench (test/e2e/ui),
//   3. standalone webview checks and the chart scale benchmark (test/e2e/webview-standalone).
// Usage: node scripts/e2e.mjs [--only host|ui|webview] [--grep TEXT]
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { setupVscodeServer, vscodeServerVersion } from './setup-vscode-server.mjs';
import { demoSettings, repoRoot, startVscodeServer } from './vscode-server.mjs';

const require = createRequire(import.meta.url);
const { values: opts } = parseArgs({ options: { only: { type: 'string' }, grep: { type: 'string' } } });
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const resultsDir = join(repoRoot, 'test-results');
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-dev-shm-usage',
];
const results = [];

function record(suite, name, ok, error, ms) {
  results.push({ suite, name, ok, error, ms });
  console.log(
    `${ok ? '  ✔' : '  ✘'} [${suite}] ${name}${ms != null ? ` (${ms} ms)` : ''}${ok ? '' : `\n      ${String(error).split('\n').join('\n      ')}`}`,
  );
}

/** A throwaway copy of the fixture workspace, so tests that edit files leave the repo clean. */
function freshWorkspace() {
  const dir = mkdtempSync(join(tmpdir(), 'normscope-ws-'));
  cpSync(join(repoRoot, 'test', 'fixtures', 'workspace'), dir, { recursive: true });
  return dir;
}

async function launchBrowser() {
  if (!existsSync(chromiumPath)) throw new Error(`Chromium not found at ${chromiumPath} (apt-get install chromium, or set CHROMIUM_PATH)`);
  return chromium.launch({ executablePath: chromiumPath, args: CHROMIUM_ARGS, headless: true });
}

async function runHostSuite(browser) {
  const resultsFile = join(mkdtempSync(join(tmpdir(), 'normscope-host-')), 'results.json');
  const server = await startVscodeServer({
    installExtension: false,
    settings: { 'security.workspace.trust.enabled': false },
    env: { NORMSCOPE_E2E_RESULTS: resultsFile, NORMSCOPE_E2E_GREP: opts.grep ?? '' },
  });
  const workspace = freshWorkspace();
  const remote = (p) => `vscode-remote://127.0.0.1:${server.port}${p}`;
  const page = await browser.newPage();
  try {
    await page.goto(
      server.urlFor(workspace, [
        ['extensionDevelopmentPath', remote(repoRoot)],
        ['extensionTestsPath', remote(join(repoRoot, 'dist', 'test', 'e2e', 'host', 'index.js'))],
      ]),
    );
    const deadline = Date.now() + 10 * 60_000;
    while (!existsSync(resultsFile) || !JSON.parse(readFileSync(resultsFile, 'utf8')).finished) {
      if (Date.now() > deadline) throw new Error(`extension-host suite did not finish in 10 minutes\n${server.log().slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    const out = JSON.parse(readFileSync(resultsFile, 'utf8'));
    console.log(`  extension host: Node ${out.nodeVersion}, VS Code API ${out.vscodeVersion}`);
    for (const t of out.tests) record('host', t.title, t.ok, t.error, t.ms);
    if (out.tests.length === 0) record('host', 'suite ran tests', false, out.error ?? 'no test reported');
  } catch (e) {
    await screenshot(page, 'host-suite');
    record('host', 'extension-host suite', false, e.stack ?? e);
  } finally {
    await page.close();
    await server.stop();
    rmSync(workspace, { recursive: true, force: true });
  }
}

async function screenshot(page, name) {
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, `${name.replace(/[^a-z0-9-]+/gi, '_')}.png`);
  await page.screenshot({ path: file }).catch(() => undefined);
  console.log(`      screenshot: ${file}`);
}

let packagedVsix;
/**
 * The .vsix exactly as `npm run package` builds it (production bundles), once per e2e run; the development
 * build is restored right after, since the other suites load dist/ from the checkout.
 */
function packageVsix() {
  if (packagedVsix) return packagedVsix;
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const started = Date.now();
  execFileSync(npm, ['run', 'package'], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'inherit'] });
  execFileSync(process.execPath, [join(repoRoot, 'esbuild.mjs')], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'inherit'] });
  packagedVsix = join(repoRoot, 'normscope.vsix');
  console.log(`  packaged ${packagedVsix} in ${Date.now() - started} ms (and rebuilt the development bundles)`);
  return packagedVsix;
}

async function runUiTests(browser) {
  const { uiTests } = require(join(repoRoot, 'dist', 'test', 'e2e', 'ui', 'index.js'));
  for (const test of uiTests) {
    if (opts.grep && !test.name.includes(opts.grep)) continue;
    let vsix;
    try {
      vsix = test.packaged ? packageVsix() : undefined;
    } catch (e) {
      record('ui', test.name, false, `npm run package failed: ${e.stack ?? e}`);
      continue;
    }
    const workspace = freshWorkspace();
    test.prepare?.(workspace);
    const settings = { 'security.workspace.trust.enabled': !!test.untrusted, ...(test.demo ? demoSettings : {}), ...test.settings };
    const server = await startVscodeServer({ vsix, settings });
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    const started = Date.now();
    try {
      await page.goto(server.urlFor(join(workspace, test.folder ?? '')));
      await test.run(page, { workspace, server, resultsDir });
      record('ui', test.name, true, undefined, Date.now() - started);
    } catch (e) {
      await screenshot(page, `ui-${test.name}`);
      record('ui', test.name, false, e.stack ?? e, Date.now() - started);
    } finally {
      await context.close();
      await server.stop();
      rmSync(workspace, { recursive: true, force: true });
    }
  }
}

async function runWebviewChecks() {
  const { runStandaloneWebviewChecks } = require(join(repoRoot, 'dist', 'test', 'e2e', 'webview-standalone.js'));
  const out = await runStandaloneWebviewChecks(chromiumPath);
  for (const r of out.results) record('webview', r.name, r.ok, r.error);
  console.log(
    `  chart scale benchmark: ${JSON.stringify({ layers: 200, steps: 1000, medianUpdateMs: Number(out.updateMs.toFixed(2)), targetMs: 16, ...out.details })}`,
  );
  // The Landscape tab and Compare's landscape/learning-rate parts on real runs (issue 13).
  const { runLandscapeWebviewChecks } = require(join(repoRoot, 'dist', 'test', 'e2e', 'webview-landscape.js'));
  for (const r of await runLandscapeWebviewChecks(chromiumPath)) record('webview', r.name, r.ok, r.error);
}

setupVscodeServer();
console.log(`NormScope e2e in VS Code ${vscodeServerVersion()}, Chromium at ${chromiumPath}`);
const browser = await launchBrowser();
console.log(`  browser: Chromium ${browser.version()}`);
try {
  if (!opts.only || opts.only === 'host') await runHostSuite(browser);
  if (!opts.only || opts.only === 'ui') await runUiTests(browser);
  if (!opts.only || opts.only === 'webview') await runWebviewChecks();
} finally {
  await browser.close();
}
const failed = results.filter((r) => !r.ok).length;
console.log(`\ne2e: ${results.length - failed} passed, ${failed} failed`);
process.exit(failed > 0 || results.length === 0 ? 1 : 0);
