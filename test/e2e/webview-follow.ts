/**
 * Following a wide, long run in the panel (`npm run bench -- --only follow`; in test/e2e as it drives Chromium):
 * a 500-layer × 100,000-step run at every step, as the reader holds it after the writer's retention with the default
 * 128 MiB budget (the newest quarter of the budget whole, the rest thinned evenly), goes through Follow's feed
 * (src/runlog/feed.ts) into the real panel bundle in headless Chromium; then new steps arrive as a live run's polls
 * bring them. Measured: each redraw (the panel's `normscope:update` measures) while they arrive. Target: median
 * ≤ 16 ms, from decimation — the feed sends a bounded pick, the store thins past its cap, each chart draws min/max
 * buckets of a few points per line, and a followed run's step axis stays put between round numbers.
 */
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { STAT_NAMES, type LayerInfo, type PanelMessage } from '../../src/protocol';
import { toPanelMessage } from '../../src/panel/panelMessages';
import { PanelReplayState } from '../../src/panel/replayState';
import { RunLogFeed } from '../../src/runlog/feed';
import type { LogSample } from '../../src/runlog/format';
import type { RunLog } from '../../src/runlog/scan';
import { CHROMIUM_ARGS, connect, median, quantile, repoRoot, serve, updateDurations, type HostLog } from './webview-harness';

const LAYERS = 500;
const STEPS = 100_000;
const BUDGET = 128 * 2 ** 20;
const W = STAT_NAMES.length;
/** Steps a live run writes while measured, and per poll (a poll every 0.5 s of a run at ~20 steps/s). */
const LIVE_STEPS = 400;
const PER_POLL = 10;
export const FOLLOW_REDRAW_TARGET_MS = 16;

function layer(i: number): LayerInfo {
  const relu = i % 2 === 1;
  return {
    index: i,
    name: relu ? `act${i}` : `fc${i}`,
    className: relu ? 'ReLU' : 'Linear',
    outputShape: [null, 256],
    paramCount: relu ? 0 : 65_792,
    ...(relu ? { activation: 'relu' } : {}),
    isNorm: false,
    source: { file: 'model.py', line: 10 + i, column: 9 },
  };
}

function sample(seq: number, step: number): LogSample {
  const values = new Float32Array(LAYERS * W);
  for (let l = 0; l < LAYERS; l++) {
    const depth = l / LAYERS;
    const wobble = Math.sin(step / 500 + l) * 0.1;
    for (let s = 0; s < W; s++) values[l * W + s] = (1 - depth) * (1 + wobble) + s * 0.01;
    values[l * W + STAT_NAMES.indexOf('gradNorm')] = 10 ** (-1 - 4 * depth) * (1 + wobble);
  }
  return { seq, step, loss: 2 * Math.exp(-step / 20_000) + 0.05, stepMs: 40, values };
}

/** The samples retention keeps of the run: the newest B/4 bytes whole, the history (5B/8) at an even stride. */
function keptSamples(): LogSample[] {
  const bytes = 32 + 4 * LAYERS * W;
  const recent = Math.floor(BUDGET / 4 / bytes);
  const historyRoom = Math.floor(((5 / 8) * BUDGET) / bytes);
  let stride = 1;
  while ((STEPS - recent) / stride > historyRoom) stride *= 2;
  const out: LogSample[] = [];
  for (let step = 0; step < STEPS - recent; step += stride) out.push(sample(step, step));
  for (let step = STEPS - recent; step < STEPS; step++) out.push(sample(step, step));
  return out;
}

function runLog(samples: LogSample[]): RunLog {
  return {
    dir: '/workspace/.normscope/runs/bench-wide',
    meta: {
      type: 'run',
      format: 'normscope-run-log',
      version: 1,
      engine: 'pytorch',
      file: 'train.py',
      projectRoot: '/cluster/proj',
      cwd: '/cluster/proj',
      host: 'gpu-node',
      pid: 1,
      started: new Date().toISOString(),
      every: 1,
      worldSize: 1,
      statNames: [...STAT_NAMES],
      budgetBytes: BUDGET,
      versions: {},
    },
    layers: Array.from({ length: LAYERS }, (_, i) => layer(i)),
    statNames: [...STAT_NAMES],
    samples,
    loss: [],
    events: [],
    skipped: [],
    stride: 1,
    end: null,
    lastWriteTime: Date.now(),
    warnings: [],
  };
}

export interface FollowBench {
  layers: number;
  steps: number;
  keptSamples: number;
  sentAtStart: number;
  redraws: number;
  medianRedrawMs: number;
  p95RedrawMs: number;
  maxRedrawMs: number;
  firstDrawMs: number;
  targetMs: number;
  meetsTarget: boolean;
}

export async function benchFollow(chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'): Promise<FollowBench> {
  const root = repoRoot();
  if (!existsSync(join(root, 'dist', 'webview.js'))) throw new Error('bench follow: dist/webview.js is missing; run `npm run build` first');
  const kept = keptSamples();
  const log = runLog(kept);
  const feed = new RunLogFeed('follow:bench', log.dir);
  const server = await serve(root);
  const browser = await chromium.launch({ executablePath: chromiumPath, args: CHROMIUM_ARGS, headless: true });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    const replay = new PanelReplayState();
    const hostLog: HostLog = { ready: 0, reveal: [], exports: [], applied: [] };
    const rpc = await connect(page, replay, hostLog, problems);
    await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    await page.waitForFunction(() => document.querySelector('[data-testid="tabs"]') !== null);
    const send = async (m: PanelMessage | undefined) => {
      if (!m) return;
      replay.record(m);
      await rpc.receive(m);
    };
    const start = feed.update(log, log.layers, STEPS);
    const sentAtStart = start.reduce((n, e) => n + (e.type === 'progress' ? e.samples.length : 0), 0);
    const t0 = performance.now();
    for (const e of start) await send(toPanelMessage(e));
    await page.waitForFunction(() => performance.getEntriesByName('normscope:update').length > 0);
    const firstDrawMs = performance.now() - t0;
    const before = (await updateDurations(page)).length;
    for (let step = STEPS; step < STEPS + LIVE_STEPS; step += PER_POLL) {
      for (let k = 0; k < PER_POLL; k++) kept.push(sample(step + k, step + k));
      for (const e of feed.update(log, log.layers, step + PER_POLL)) await send(toPanelMessage(e));
      await new Promise((r) => setTimeout(r, 40)); // the panel redraws at most every 34 ms: let each poll draw
    }
    await new Promise((r) => setTimeout(r, 200));
    const durations = (await updateDurations(page)).slice(before);
    if (problems.length) throw new Error(`bench follow: the panel failed: ${problems.join('; ')}`);
    // What was measured is the live run: the panel took every new step (the header names the newest).
    const status = await page.textContent('[data-testid="run-status"]');
    if (status !== `Following: step ${STEPS + LIVE_STEPS - 1}`) throw new Error(`bench follow: the panel's header says '${status}'`);
    if (durations.length === 0) throw new Error('bench follow: no redraw was measured');
    const medianRedrawMs = median(durations);
    return {
      layers: LAYERS,
      steps: STEPS,
      keptSamples: kept.length - LIVE_STEPS,
      sentAtStart,
      redraws: durations.length,
      medianRedrawMs: round(medianRedrawMs),
      p95RedrawMs: round(quantile(durations, 0.95)),
      maxRedrawMs: round(Math.max(...durations)),
      firstDrawMs: round(firstDrawMs),
      targetMs: FOLLOW_REDRAW_TARGET_MS,
      meetsTarget: medianRedrawMs <= FOLLOW_REDRAW_TARGET_MS,
    };
  } finally {
    await browser.close();
    server.close();
  }
}

const round = (v: number) => Math.round(v * 100) / 100;
