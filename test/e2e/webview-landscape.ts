/**
 * The Landscape tab and Compare's landscape overlay and learning-rate table, in Chromium, on real runs: the
 * 10-layer plain and BatchNorm MLPs of test/fixtures/landscape (the reproduction of Santurkar et al. 2018,
 * Fig. 4) and a learning-rate sweep of the 6-layer plain and LayerNorm ones, all trained in-process here.
 * With an output directory it also writes the README's pictures: PNGs exported through the panel's own export
 * (`exportData('png', chart)`) and a screenshot of each tab.
 * Run alone: node dist/test/e2e/webview-landscape.js [/usr/bin/chromium] [docs/]
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type {
  CompareCandidate,
  NormKind,
  LayerInfo,
  PanelRun,
  WorkerEvent,
  RunOptions,
  RunReport,
  StatName,
  StepSample,
} from '../../src/protocol';
import { PanelReplayState } from '../../src/panel/replayState';
import { sweepLearningRates } from '../../src/runner/lrSweep';
import { runTraining } from '../../src/worker/engine';
import { waitFor } from './poll';
import { checkList, CHROMIUM_ARGS, connect, pixels, repoRoot, serve, sleep, type CheckResult, type HostLog } from './webview-harness';

interface Trained {
  run: PanelRun;
  samples: StepSample[];
  report: RunReport;
}

const OPTIONS = { steps: 60, backend: 'wasm', seed: 3, samplingInterval: 1 } as const;

async function train(file: string, runId: string, extra: Partial<RunOptions> = {}): Promise<Trained> {
  const samples: StepSample[] = [];
  let layers: LayerInfo[] = [];
  let statNames: readonly StatName[] = [];
  const report = await runTraining(
    { file, ...OPTIONS, ...extra },
    (e: WorkerEvent) => {
      if (e.type === 'layers') ({ layers, statNames } = e);
      if (e.type === 'progress') samples.push(...e.samples);
    },
    new AbortController().signal,
  );
  const run: PanelRun = {
    runId,
    file,
    layers,
    statNames,
    steps: report.steps,
    batchSize: report.batchSize,
    syntheticData: report.syntheticData,
  };
  return { run, samples, report };
}

/** The plain model as the no-normalization baseline: not a NormKind a run can swap to, but the panel only shows its name. */
const NO_NORM = 'none' as NormKind;

function candidate(norm: NormKind, t: Trained): CompareCandidate {
  return {
    norm,
    finalLoss: t.report.evalLoss,
    loss: t.report.loss,
    gradNorm: [],
    findings: t.report.findings,
    landscape: t.report.landscape,
  };
}

export async function runLandscapeWebviewChecks(chromiumPath: string, outDir?: string): Promise<CheckResult[]> {
  const { results, check, assert } = checkList();
  const root = repoRoot();
  const fixtures = join(root, 'test', 'fixtures', 'landscape');
  const plain = await train(join(fixtures, 'deep-plain.js'), 'landscape-plain', { landscape: { every: 3 } });
  const bn = await train(join(fixtures, 'deep-bn.js'), 'landscape-bn', { landscape: { every: 3 } });
  const signal = new AbortController().signal;
  const sweep = await sweepLearningRates(
    (o) => runTraining(o, () => undefined, signal),
    [
      { variant: 'none', options: { file: join(fixtures, 'sweep-plain.js'), ...OPTIONS, samplingInterval: 10 } },
      { variant: 'layerNorm', options: { file: join(fixtures, 'sweep-ln.js'), ...OPTIONS, samplingInterval: 10 } },
    ],
    [0.01, 0.03, 0.1, 0.3, 1],
    signal,
  );

  const server = await serve(root);
  const browser = await chromium.launch({ executablePath: chromiumPath, args: CHROMIUM_ARGS, headless: true });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    const log: HostLog = { ready: 0, reveal: [], exports: [], applied: [] };
    const rpc = await connect(page, new PanelReplayState(), log, problems);
    await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    await page.waitForFunction(() => document.querySelector('[data-testid="tabs"]') !== null);
    await waitFor('the host to log ready', () => log.ready !== 0, 10_000).catch(() => undefined);
    // Full-page shots clipped to the element: an element shot would have the sticky header over its top.
    const shoot = async (testId: string, name: string) => {
      if (!outDir) return;
      const box = await page.locator(`[data-testid="${testId}"]`).boundingBox();
      const scrollY = await page.evaluate(() => window.scrollY);
      if (box) await page.screenshot({ path: join(outDir, name), fullPage: true, clip: { ...box, y: box.y + scrollY } });
    };
    const save = (name: string, dataUrl: string) => {
      if (outDir) writeFileSync(join(outDir, name), Buffer.from(dataUrl.replace(/^data:image\/png;base64,/, ''), 'base64'));
    };
    if (outDir && !existsSync(outDir)) mkdirSync(outDir, { recursive: true });

    await rpc.receive({ type: 'run-started', run: plain.run, samples: plain.samples, findings: [] });
    await rpc.receive({ type: 'run-done', runId: plain.run.runId, report: plain.report });
    await page.click('[data-testid="tab-landscape"]');
    await sleep(300);
    await check('Landscape tab draws the three bands and a row of ICS per weighted layer', async () => {
      for (const curve of ['losses', 'gradChange', 'smoothness']) {
        assert((await pixels(page, `landscape-${curve}`)).painted > 2000, `landscape-${curve} chart is blank`);
      }
      const rows = await page.locator('[data-testid="landscape-ics-row"]').count();
      const weighted = plain.run.layers.filter((l) => l.paramCount > 0).length;
      assert(rows === weighted, `${rows} ICS rows for ${weighted} weighted layers`);
      assert(/probes every 3 steps/.test((await page.textContent('[data-testid="landscape-summary"]')) ?? ''), 'summary line');
    });
    await shoot('panel-landscape', 'landscape-tab.png');

    await rpc.receive({
      type: 'compare',
      result: { file: join(fixtures, 'deep-bn.js'), line: 1, candidates: [candidate(NO_NORM, plain), candidate('batchNorm', bn)], sweep },
    });
    await sleep(300);
    await check('Compare overlays the landscape curves per candidate and shows the learning-rate table with its verdict', async () => {
      for (const curve of ['losses', 'gradChange', 'smoothness']) {
        const png = await rpc.exportData('png', `compare-landscape-${curve}`);
        assert(png?.data.startsWith('data:image/png;base64,'), `compare-landscape-${curve} export`);
        if (curve === 'losses') save('landscape-compare-losses-export.png', png!.data);
      }
      assert((await page.locator('[data-testid="sweep-row"]').count()) === 2, 'one sweep row per variant');
      assert(/tolerates the widest range/.test((await page.textContent('[data-testid="sweep-verdict"]')) ?? ''), 'verdict');
    });
    await shoot('compare-landscape', 'landscape-compare.png');
    await shoot('compare-sweep', 'landscape-lr-sweep.png');
    await check('no page errors', async () => assert(problems.length === 0, problems.join('; ')));
  } finally {
    await browser.close();
    server.close();
  }
  return results;
}

if (/[\\/]webview-landscape\.js$/.test(process.argv[1] ?? '')) {
  runLandscapeWebviewChecks(process.argv[2] ?? '/usr/bin/chromium', process.argv[3]).then(
    (results) => {
      for (const r of results) process.stdout.write(`${r.ok ? 'ok' : 'FAIL'} ${r.name}${r.error ? `: ${r.error}` : ''}\n`);
      process.exitCode = results.every((r) => r.ok) ? 0 : 1;
    },
    (e) => {
      process.stderr.write(`${(e as Error).stack ?? e}\n`);
      process.exitCode = 1;
    },
  );
}
