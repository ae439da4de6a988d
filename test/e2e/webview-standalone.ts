/**
 * Standalone checks of the panel bundle (dist/webview.js) in headless Chromium, outside VS Code:
 * the real page from src/panel/html.ts (same CSP) served from 127.0.0.1, a fake acquireVsCodeApi,
 * and a host side speaking the real protocol over birpc. Streams a 200-layer × 1,000-step run and
 * measures the redraw time the panel records (`normscope:update` performance measures).
 * Run alone: node dist/test/e2e/webview-standalone.js [/usr/bin/chromium]
 */
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { PanelMessage, StepSample } from '../../src/protocol';
import { PanelReplayState } from '../../src/panel/replayState';

import {
  checkList,
  LAYERS,
  STEPS,
  BATCH,
  XSS_NAME,
  XSS_LAYER,
  ERROR_RGB,
  CHROMIUM_ARGS,
  repoRoot,
  makeRun,
  makeSample,
  findings,
  makeReport,
  serve,
  HostLog,
  connect,
  pixels,
  updateDurations,
  median,
  quantile,
  sleep,
} from './webview-harness';
import type { StandaloneOutput } from './webview-harness';
import { headerProblems, NARROW_WIDTHS } from './webview-narrow';
import { errorMessage } from '../../src/protocol';
import { waitFor } from './poll';
export type { CheckResult, StandaloneOutput } from './webview-harness';

export async function runStandaloneWebviewChecks(chromiumPath: string): Promise<StandaloneOutput> {
  const { results, check, assert } = checkList();
  const root = repoRoot();
  if (!existsSync(join(root, 'dist', 'webview.js')))
    throw new Error('webview-standalone: dist/webview.js is missing; run `npm run build` first');
  const server = await serve(root);
  const browser = await chromium.launch({ executablePath: chromiumPath, args: CHROMIUM_ARGS, headless: true });
  const details = {
    updates: 0,
    p95Ms: Number.NaN,
    fullSizeMedianMs: Number.NaN,
    allOverviewVisibleMs: Number.NaN,
    redrawsPerSecond: Number.NaN,
  };
  let updateMs = Number.NaN;
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    const problems: string[] = [];
    const dialogs: string[] = [];
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()}`);
    });
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    const replay = new PanelReplayState();
    const log: HostLog = { ready: 0, reveal: [], exports: [], applied: [] };
    const rpc = await connect(page, replay, log, problems);
    const send = async (m: PanelMessage) => {
      replay.record(m);
      await rpc.receive(m);
    };
    // NORMSCOPE_WEBVIEW_SHOTS=<dir> saves a screenshot of each view for a human look.
    const shotDir = process.env.NORMSCOPE_WEBVIEW_SHOTS;
    const shot = async (name: string) => {
      if (shotDir) await page.screenshot({ path: join(shotDir, `webview-${name}.png`), fullPage: true });
    };
    await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    await page.waitForFunction(() => document.querySelector('[data-testid="tabs"]') !== null);
    await waitFor('the host to log ready', () => log.ready !== 0, 10_000).catch(() => undefined);

    await check('webview loads and calls ready()', async () => assert(log.ready === 1, `ready() called ${log.ready} times`));

    // Stream the run the way the worker does: batches of steps.
    const run = makeRun();
    const all: StepSample[] = [];
    await send({ type: 'run-started', run, samples: [], findings: [] });
    const t0 = Date.now();
    for (let step = 0; step < STEPS; step += BATCH) {
      const batch = Array.from({ length: BATCH }, (_, k) => makeSample(step + k));
      all.push(...batch);
      await send({ type: 'samples', runId: run.runId, samples: batch });
      if (step === 300) await send({ type: 'findings', runId: run.runId, findings });
    }
    await sleep(100);
    const streamSeconds = (Date.now() - t0) / 1000;
    const streamed = await updateDurations(page);
    updateMs = median(streamed);
    details.updates = streamed.length;
    details.p95Ms = quantile(streamed, 0.95);
    details.redrawsPerSecond = streamed.length / streamSeconds;
    await send({ type: 'run-done', runId: run.runId, report: makeReport(run, all) });

    await check('redraws are throttled to ≤ 30 per second', async () =>
      assert(details.redrawsPerSecond <= 31, `${details.redrawsPerSecond.toFixed(1)} redraws/s`),
    );
    await check('no dropped steps: the final state shows step 999 of 1000', async () => {
      const status = await page.textContent('[data-testid="run-status"]');
      assert(/^Done: 1000 steps/.test(status ?? ''), `status '${status}'`);
      const csv = await rpc.exportData('csv');
      const lines = csv!.data.trimEnd().split('\r\n');
      assert(lines.length === 1 + LAYERS * STEPS, `${lines.length} CSV lines`);
      assert(lines[lines.length - 1].startsWith('999,'), `last row '${lines[lines.length - 1].slice(0, 40)}'`);
    });
    await check('header shows backend, step time and the synthetic-data notice', async () => {
      assert((await page.textContent('[data-testid="backend"]')) === 'Backend: wasm', 'backend');
      assert(/ms\/step/.test((await page.textContent('[data-testid="step-time"]')) ?? ''), 'step time');
      assert(await page.isVisible('[data-testid="synthetic-notice"]'), 'synthetic notice hidden');
    });
    await check(`every header field is fully visible at ${NARROW_WIDTHS.join(', ')} px wide`, async () => {
      const problems: string[] = [];
      for (const width of NARROW_WIDTHS) {
        await page.setViewportSize({ width, height: 720 });
        await sleep(50);
        for (const p of await headerProblems(page)) problems.push(`${width} px: ${p}`);
        await shot(`header-${width}`);
      }
      await page.setViewportSize({ width: 1280, height: 720 });
      assert(problems.length === 0, problems.join('; '));
    });
    await check('loss and overview charts draw non-blank pixels', async () => {
      for (const id of ['loss', 'overview-mean', 'overview-std']) {
        const p = await pixels(page, id);
        assert(p.painted > 2000, `${id}: ${p.painted} painted pixels`);
      }
    });

    // Full-size redraws (1,000 steps stored): each findings message forces one.
    const before = (await updateDurations(page)).length;
    for (let i = 0; i < 12; i++) {
      await send({ type: 'findings', runId: run.runId, findings: [...findings] });
      await sleep(60);
    }
    details.fullSizeMedianMs = median((await updateDurations(page)).slice(before));
    await page.setViewportSize({ width: 1280, height: 2600 });
    await sleep(300);
    const before2 = (await updateDurations(page)).length;
    for (let i = 0; i < 8; i++) {
      await send({ type: 'findings', runId: run.runId, findings: [...findings] });
      await sleep(80);
    }
    details.allOverviewVisibleMs = median((await updateDurations(page)).slice(before2));
    await shot('overview');
    await check('all six overview charts draw', async () => {
      for (const stat of ['mean', 'std', 'gain', 'gradNorm', 'deadFraction', 'updateRatio']) {
        const p = await pixels(page, `overview-${stat}`);
        assert(p.painted > 2000, `overview-${stat}: ${p.painted} painted pixels`);
      }
    });
    await page.setViewportSize({ width: 1280, height: 900 });

    await check('heatmaps draw non-blank pixels (tab reached by keyboard)', async () => {
      await page.focus('[data-testid="tab-overview"]');
      await page.keyboard.press('ArrowRight');
      assert((await page.getAttribute('[data-testid="tab-heatmaps"]', 'aria-selected')) === 'true', 'ArrowRight did not select Heatmaps');
      await sleep(100);
      await shot('heatmaps');
      for (const id of ['heatmap-gradNorm', 'heatmap-deadFraction']) {
        const p = await pixels(page, id);
        assert(p.painted > 5000, `${id}: ${p.painted} painted pixels`);
      }
    });
    await check('clicking a line in an overview chart opens that layer', async () => {
      // The dead layer is the only line at deadFraction = 1: find its pixels and click one.
      await page.click('[data-testid="tab-overview"]');
      await page.locator('[data-testid="chart-overview-deadFraction"]').scrollIntoViewIfNeeded();
      // Off-screen charts draw when scrolled into view: wait for the line to appear.
      const handle = await page
        .waitForFunction(
          () => {
            const canvas = document.querySelector('[data-testid="canvas-overview-deadFraction"]') as HTMLCanvasElement;
            const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
            const x = Math.floor(canvas.width * 0.6);
            for (let y = 0; y < canvas.height; y++) {
              const i = (y * canvas.width + x) * 4;
              if (data[i + 3] > 200 && data[i + 2] > 150 && data[i + 2] > data[i] + 80) {
                const r = canvas.getBoundingClientRect();
                return { x: r.left + x * (r.width / canvas.width), y: r.top + y * (r.height / canvas.height) };
              }
            }
            return null;
          },
          undefined,
          { timeout: 5000 },
        )
        .catch(() => null);
      const hit = (await handle?.jsonValue()) as { x: number; y: number } | null;
      assert(hit, "no pixel of the dead layer's line found");
      await page.mouse.move(hit!.x, hit!.y);
      const tip = await page.textContent('[data-testid="tooltip-overview-deadFraction"]');
      assert(tip?.startsWith(XSS_NAME), `hover tooltip '${tip}'`);
      await page.mouse.click(hit!.x, hit!.y);
      assert((await page.getAttribute('[data-testid="tab-detail"]', 'aria-selected')) === 'true', 'detail tab not selected');
      assert((await page.textContent('[data-testid="detail-name"]')) === XSS_NAME, 'wrong layer opened');
    });
    await check('depth profile highlights the flagged layer in the severity colour', async () => {
      await page.click('[data-testid="tab-depth"]');
      await sleep(100);
      await shot('depth');
      const row = page.locator(`[data-testid="depth-row"][data-layer-index="${XSS_LAYER}"]`);
      assert((await row.getAttribute('data-severity')) === 'error', `row severity ${await row.getAttribute('data-severity')}`);
      assert((await row.getAttribute('data-kinds')) === 'dead', 'row kinds');
      const p = await pixels(page, 'depth', ERROR_RGB);
      assert(p.painted > 2000 && p.matches >= 10, `depth canvas: ${p.painted} painted, ${p.matches} in the error colour`);
      assert((await page.locator('[data-testid="depth-row"][data-severity="none"]').count()) === LAYERS - 2, 'other rows not flagged');
    });
    await check('a hostile layer name shows literally and never runs', async () => {
      const text = await page.textContent(`[data-testid="depth-row"][data-layer-index="${XSS_LAYER}"] [data-testid="depth-open"]`);
      assert(text === XSS_NAME, `shown as '${text}'`);
      assert((await page.locator('img').count()) === 0, 'an <img> element was created');
      assert(dialogs.length === 0, `dialogs: ${dialogs.join(', ')}`);
    });
    await check('clicking a layer opens its detail; Reveal asks the host', async () => {
      await page.click(`[data-testid="depth-row"][data-layer-index="${XSS_LAYER}"] [data-testid="depth-open"]`);
      assert((await page.getAttribute('[data-testid="tab-detail"]', 'aria-selected')) === 'true', 'detail tab not selected');
      assert((await page.textContent('[data-testid="detail-name"]')) === XSS_NAME, 'detail name');
      assert((await page.locator('[data-testid="detail-findings"] [data-kind="dead"]').count()) === 1, 'dead finding listed');
      await sleep(100);
      const p = await pixels(page, 'detail-gradNorm');
      assert(p.painted > 500, `detail-gradNorm: ${p.painted} painted pixels`);
      await shot('detail');
      await page.click('[data-testid="reveal-layer"]');
      await waitFor('the host to log reveal', () => log.reveal.length !== 0, 10_000).catch(() => undefined);
      assert(JSON.stringify(log.reveal) === JSON.stringify([[run.runId, XSS_LAYER]]), `revealLayer calls ${JSON.stringify(log.reveal)}`);
    });
    await check('PNG button sends a PNG to saveExport; exportData gives PNG, CSV and JSON', async () => {
      await page.click('[data-testid="png-loss"]');
      await waitFor('the host to log exports', () => log.exports.length !== 0, 10_000).catch(() => undefined);
      const e = log.exports[0];
      assert(
        e?.kind === 'png' && e.data.startsWith('data:image/png;base64,') && e.data.length > 2000,
        `saveExport got ${e?.kind} ${e?.data.length}`,
      );
      await page.waitForFunction(() => /Saved/.test(document.querySelector('[data-testid="export-status"]')?.textContent ?? ''));
      const offscreen = await rpc.exportData('png', 'overview-updateRatio');
      assert(offscreen?.data.startsWith('data:image/png;base64,'), 'off-screen overview chart export');
      assert((await pixels(page, 'overview-updateRatio')).painted > 2000, 'off-screen chart was exported without being drawn');
      const heat = await rpc.exportData('png', 'heatmap-gradNorm');
      assert(
        heat?.data.startsWith('data:image/png;base64,') && heat.suggestedName === 'deep-mlp-heatmap-gradNorm.png',
        `heatmap export ${heat?.suggestedName}`,
      );
      const json = await rpc.exportData('json');
      const exported = JSON.parse(json!.data);
      assert(exported.layers.length === LAYERS, 'JSON is the run report');
      assert(Array.isArray(exported.flags) && !('findings' in exported), 'findings under `flags`, as `normscope check --json` prints them');
    });
    await check('state survives a reload: tab kept, run replayed from the host', async () => {
      await page.click('[data-testid="tab-depth"]');
      await page.reload();
      await page.waitForFunction((n) => document.querySelectorAll('[data-testid="depth-row"]').length === n, LAYERS, { timeout: 10_000 });
      assert((await page.getAttribute('[data-testid="tab-depth"]', 'aria-selected')) === 'true', 'depth tab not restored');
      assert(log.ready === 2, `ready() called ${log.ready} times`);
      await page.waitForFunction(() => /^Done/.test(document.querySelector('[data-testid="run-status"]')?.textContent ?? ''));
      // The replay reaches the store in batches (a busy machine takes its time): wait until every step is in.
      let replayed = '';
      await waitFor(`all ${STEPS} steps replayed`, async () => {
        const csv = (await rpc.exportData('csv'))!.data.trimEnd().split('\r\n');
        const steps = new Set(csv.slice(1).map((line) => line.split(',')[0]));
        replayed = `replayed ${steps.size} steps, ${csv.length - 1} rows`;
        assert(steps.size <= STEPS && csv.length <= 1 + LAYERS * STEPS, `${replayed}: more than the run had`);
        return csv.length === 1 + LAYERS * STEPS && steps.size === STEPS;
      }).catch((e) => {
        throw new Error(`${replayed} (${errorMessage(e)})`);
      });
      await waitFor('the loss chart drawn after reload', async () => (await pixels(page, 'loss')).painted > 2000, 10_000);
    });
    await check('compare view: curves, verdicts and Apply', async () => {
      const curve = (f: number) => Array.from({ length: 50 }, (_, i) => 2 * Math.exp(-i / (10 * f)));
      await send({
        type: 'compare',
        result: {
          file: run.file,
          line: 12,
          candidates: [
            {
              norm: 'batchNorm',
              finalLoss: 0.3,
              loss: curve(1),
              gradNorm: curve(2),
              findings: [{ ...findings[0], kind: 'bn-small-batch', layer: 'bn' }],
            },
            { norm: 'layerNorm', finalLoss: 0.4, loss: curve(1.2), gradNorm: curve(1.5), findings: [] },
            { norm: 'groupNorm', finalLoss: null, loss: [...curve(1).slice(0, 20), null], gradNorm: [], findings: [] },
          ],
        },
      });
      await page.waitForSelector('[data-testid="compare-row"][data-norm="layerNorm"][data-verdict="best"]');
      assert(
        (await page.getAttribute('[data-testid="compare-row"][data-norm="groupNorm"]', 'data-verdict')) === 'diverged',
        'groupNorm verdict',
      );
      await sleep(100);
      assert((await pixels(page, 'compare-loss')).painted > 1000, 'compare loss chart blank');
      await shot('compare');
      await page.click('[data-testid="apply-layerNorm"]');
      await waitFor('the host to log applied', () => log.applied.length !== 0, 10_000).catch(() => undefined);
      assert(log.applied[0] === 'layerNorm', `applyCandidate calls ${log.applied.join(',')}`);
    });
    await check('focus-layer from the host shows that layer', async () => {
      await send({ type: 'focus-layer', runId: run.runId, layerIndex: 150 });
      await page.waitForFunction(() => document.querySelector('[data-testid="detail-name"]')?.textContent === 'dense_150');
      assert((await page.getAttribute('[data-testid="tab-detail"]', 'aria-selected')) === 'true', 'detail tab not selected');
    });
    await check('theme switch to light redraws without errors', async () => {
      await page.evaluate(() => {
        document.body.classList.replace('vscode-dark', 'vscode-light');
        const vars: Record<string, string> = {
          '--vscode-editor-background': '#ffffff',
          '--vscode-foreground': '#3b3b3b',
          '--vscode-descriptionForeground': '#717171',
          '--vscode-editorWidget-border': '#c8c8c8',
        };
        for (const [k, v] of Object.entries(vars)) document.documentElement.style.setProperty(k, v);
      });
      await page.click('[data-testid="tab-overview"]');
      await sleep(200);
      assert((await pixels(page, 'overview-mean')).painted > 2000, 'overview blank after theme switch');
      await shot('overview-light');
    });
    await check('no page errors or CSP violations', async () => {
      const csp = await page.evaluate(() => (window as unknown as { __csp: string[] }).__csp);
      assert(problems.length === 0 && csp.length === 0, [...problems, ...csp.map((c) => `CSP: ${c}`)].join('; '));
    });
    // The ≤ 16 ms target is a benchmark figure (printed by the driver), not a pass/fail check: shared machines
    // are too noisy for timed assertions. What is checked is that the measurement happened.
    await check(`redraw time measured at ${LAYERS} layers × ${STEPS} steps`, async () =>
      assert(Number.isFinite(updateMs) && updateMs > 0, `no redraw was measured (${updateMs})`),
    );
    rpc.$close();
  } finally {
    await browser.close();
    server.close();
  }
  return { results, updateMs, details };
}

if (require.main === module) {
  runStandaloneWebviewChecks(process.argv[2] ?? '/usr/bin/chromium').then(
    (out) => {
      for (const r of out.results) console.log(`${r.ok ? '✔' : '✘'} ${r.name}${r.ok ? '' : `\n    ${r.error}`}`);
      console.log(
        `chart scale benchmark: ${JSON.stringify({ layers: LAYERS, steps: STEPS, medianUpdateMs: Number(out.updateMs.toFixed(2)), ...out.details })}`,
      );
      process.exitCode = out.results.every((r) => r.ok) ? 0 : 1;
    },
    (e) => {
      console.error(e);
      process.exitCode = 1;
    },
  );
}
