/** Fixtures and helpers of the standalone webview checks: a synthetic 200-layer run, a static server and a fake VS Code host. */
import { existsSync, readFileSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import type { Page } from 'playwright-core';
import {
  STAT_NAMES,
  openChannel,
  type Finding,
  type PanelFunctions,
  type PanelHostFunctions,
  type PanelRun,
  type RunReport,
  type StepSample,
} from '../../src/protocol';
import { makeNonce, renderPanelHtml } from '../../src/panel/html';
import { PanelReplayState } from '../../src/panel/replayState';

export interface CheckResult {
  name: string;
  ok: boolean;
  error?: string;
}
export interface StandaloneOutput {
  results: CheckResult[];
  /** Median redraw time while streaming 200 layers × 1,000 steps (default 1280×720 view). */
  updateMs: number;
  details: { updates: number; p95Ms: number; fullSizeMedianMs: number; allOverviewVisibleMs: number; redrawsPerSecond: number };
}

/** A list of named checks: `check` runs one and records whether it passed, `assert` fails it with a message. */
export function checkList(): {
  results: CheckResult[];
  check: (name: string, fn: () => Promise<void>) => Promise<void>;
  assert: (cond: unknown, message: string) => void;
} {
  const results: CheckResult[] = [];
  return {
    results,
    check: async (name, fn) => {
      try {
        await fn();
        results.push({ name, ok: true });
      } catch (e) {
        results.push({ name, ok: false, error: e instanceof Error ? e.message : String(e) });
      }
    },
    assert: (cond, message) => {
      if (!cond) throw new Error(message);
    },
  };
}

export const LAYERS = 200;
export const STEPS = 1000;
export const BATCH = 10;
export const XSS_NAME = '<img src=x onerror=alert(1)>';
export const XSS_LAYER = 3;
export const ERROR_RGB = [241, 76, 76];
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export function repoRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'package.json')) || !existsSync(join(dir, 'webview'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`webview-standalone: cannot find the repository root above ${__dirname}`);
    dir = up;
  }
  return dir;
}

// ---- a synthetic run: depth-dependent statistics, one dead layer (with the hostile name) ----

export function makeRun(): PanelRun {
  return {
    runId: 'bench-run',
    file: '/workspace/deep-mlp.ts',
    steps: STEPS,
    batchSize: 32,
    syntheticData: true,
    backend: { name: 'wasm', notes: ['tfjs-node is not installed'] },
    statNames: STAT_NAMES,
    layers: Array.from({ length: LAYERS }, (_, i) => ({
      index: i,
      name: i === XSS_LAYER ? XSS_NAME : `dense_${i}`,
      className: i % 2 ? 'BatchNormalization' : 'Dense',
      outputShape: [null, 64],
      paramCount: 4160,
      activation: i % 2 ? undefined : 'relu',
      isNorm: i % 2 === 1,
      source: { file: '/workspace/deep-mlp.ts', line: 10 + i, column: 5 },
    })),
  };
}

export function makeSample(step: number): StepSample {
  const values: number[] = [];
  for (let layer = 0; layer < LAYERS; layer++) {
    const depth = layer / LAYERS;
    const wobble = Math.sin(step / 25 + layer) * 0.1;
    const dead = layer === XSS_LAYER;
    for (const stat of STAT_NAMES) {
      let v: number;
      switch (stat) {
        case 'gradNorm':
          v = dead ? 0 : 10 ** (-1 - 5 * depth) * (1 + wobble) * (layer === 150 && step > 600 ? 1e4 : 1);
          break;
        case 'deadFraction':
          v = dead ? 1 : Math.max(0, 0.05 + wobble * 0.2);
          break;
        case 'updateRatio':
          v = 1e-3 * (1 + wobble) * 10 ** (-2 * depth);
          break;
        case 'gammaMean':
        case 'gammaMin':
        case 'gammaMax':
        case 'gammaStd':
        case 'betaMean':
        case 'movingMeanGap':
        case 'movingVarGap':
          v = layer % 2 ? 1 + wobble - step / 5000 : Number.NaN;
          break;
        case 'movingUpdates':
          v = layer % 2 ? step + 1 : Number.NaN;
          break;
        default:
          v = (1 - depth) * (1 + wobble) + STAT_NAMES.indexOf(stat) * 0.01;
      }
      values.push(Number.isFinite(v) ? Number(v.toPrecision(5)) : v);
    }
  }
  return { step, loss: 2.3 * Math.exp(-step / 300) + 0.05, stepMs: 12 + Math.sin(step) * 0.5, values };
}

export const findings: Finding[] = [
  {
    kind: 'dead',
    severity: 'error',
    layer: XSS_NAME,
    step: 5,
    message: `Layer ${XSS_NAME} outputs 0 for every unit.`,
    fix: 'Use LeakyReLU or lower the learning rate.',
    source: null,
  },
  {
    kind: 'vanishing',
    severity: 'warning',
    layer: 'dense_180',
    step: 40,
    message: "Gradient norm 1e-6 of the first layer's.",
    source: null,
  },
  { kind: 'exploding', severity: 'error', layer: null, step: 700, message: 'Loss grew 100× in 10 steps.', source: null },
];

export function makeReport(run: PanelRun, samples: StepSample[]): RunReport {
  const g = STAT_NAMES.indexOf('gradNorm');
  return {
    file: run.file,
    backend: 'wasm',
    backendNotes: [],
    evalLoss: null,
    steps: STEPS,
    batchSize: 32,
    syntheticData: true,
    loss: samples.map((s) => s.loss),
    findings,
    timing: { instrumentedStepMs: 12.1, plainStepMs: 9.8, totalMs: 12_100 },
    layers: run.layers.map((l) => ({
      name: l.name,
      className: l.className,
      source: l.source,
      sampledSteps: samples.map((s) => s.step),
      stats: { gradNorm: samples.map((s) => s.values[l.index * STAT_NAMES.length + g]) },
    })),
  };
}

// ---- page and host ----

export function serve(root: string): Promise<http.Server> {
  const files: Record<string, [string, string]> = {
    '/dist/webview.js': [join(root, 'dist', 'webview.js'), 'text/javascript'],
    '/media/panel.css': [join(root, 'media', 'panel.css'), 'text/css'],
  };
  const server = http.createServer((req, res) => {
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(
        renderPanelHtml({
          cspSource: origin,
          nonce: makeNonce(),
          scriptUri: `${origin}/dist/webview.js`,
          styleUri: `${origin}/media/panel.css`,
        }),
      );
    } else if (path === '/favicon.ico') {
      res.writeHead(204);
      res.end();
    } else if (files[path]) {
      res.writeHead(200, { 'content-type': files[path][1] });
      res.end(readFileSync(files[path][0]));
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** What the fake host saw the webview ask for. */
export interface HostLog {
  ready: number;
  reveal: [string, number][];
  exports: { kind: string; name: string; data: string }[];
  applied: string[];
}

export async function connect(page: Page, replay: PanelReplayState, log: HostLog, problems: string[]) {
  let toHost: (m: unknown) => void = () => undefined;
  await page.exposeFunction('__normscopeToHost', (m: unknown) => toHost(m));
  // A VS Code-like webview API: messages cross JSON; state survives a reload (like setState).
  await page.addInitScript(() => {
    const w = window as unknown as Record<string, unknown>;
    w.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => (w.__csp as string[]).push(`${e.violatedDirective} ${e.blockedURI}`));
    w.acquireVsCodeApi = () => ({
      postMessage: (m: unknown) => (w.__normscopeToHost as (m: unknown) => void)(JSON.parse(JSON.stringify(m))),
      getState: () => JSON.parse(sessionStorage.getItem('vscodeState') ?? 'null'),
      setState: (s: unknown) => sessionStorage.setItem('vscodeState', JSON.stringify(s)),
    });
    document.addEventListener('DOMContentLoaded', () => {
      document.body.classList.add('vscode-dark');
      document.documentElement.style.setProperty('--vscode-editorError-foreground', 'rgb(241, 76, 76)');
      document.documentElement.style.setProperty('--vscode-editor-background', 'rgb(30, 30, 30)');
    });
  });
  const host: PanelHostFunctions = {
    // Like HealthPanel: the run's first chunk answers ready(); the rest follows as messages.
    ready: async () => {
      log.ready++;
      const { initial, follow } = replay.replay(200_000);
      // In order, as VS Code's webview.postMessage delivers (concurrent page.evaluate calls may not).
      setTimeout(async () => {
        for (const m of follow) await rpc.receive(m);
      }, 0);
      return initial;
    },
    revealLayer: async (runId, layer) => {
      log.reveal.push([runId, layer]);
      return true;
    },
    saveExport: async (kind, name, data) => {
      log.exports.push({ kind, name, data });
      return `/tmp/exports/${name}`;
    },
    applyCandidate: async (norm) => {
      log.applied.push(norm);
      return true;
    },
  };
  const rpc = openChannel<PanelFunctions, PanelHostFunctions>(
    host,
    {
      // Returning the promise makes birpc wait until the page has the message (paces the stream).
      // As VS Code does: the message crosses as JSON (NaN → null). A JSON string is also far faster through CDP.
      post: (m) =>
        page
          .evaluate((json) => window.postMessage(JSON.parse(json), '*'), JSON.stringify(m))
          .catch((e) => {
            problems.push(`post to page failed: ${String(e).slice(0, 200)}`);
          }),
      listen: (handler) => {
        toHost = handler;
        return () => {
          toHost = () => undefined;
        };
      },
    },
    { timeoutMs: 30_000, eventNames: ['receive'] },
  );
  return rpc;
}

/** Non-transparent pixels of a canvas, and whether any is close to `rgb`. */
export async function pixels(page: Page, testId: string, rgb?: number[]): Promise<{ painted: number; matches: number }> {
  return page.evaluate(
    ({ testId, rgb }) => {
      const canvas = document.querySelector(`[data-testid="canvas-${testId}"]`) as HTMLCanvasElement | null;
      if (!canvas || canvas.width === 0) return { painted: 0, matches: 0 };
      const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      let painted = 0;
      let matches = 0;
      for (let i = 0; i < data.length; i += 4) {
        if (data[i + 3] === 0) continue;
        painted++;
        if (rgb && data[i + 3] > 200 && Math.abs(data[i] - rgb[0]) + Math.abs(data[i + 1] - rgb[1]) + Math.abs(data[i + 2] - rgb[2]) < 30)
          matches++;
      }
      return { painted, matches };
    },
    { testId, rgb },
  );
}

export const updateDurations = (page: Page) => page.evaluate(() => performance.getEntriesByName('normscope:update').map((e) => e.duration));
export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : Number.NaN;
};
export const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(s.length * q))] : Number.NaN;
};
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
