import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { StepSample } from '../../src/protocol';
import { exportBytes } from '../../src/panel/exportBytes';
import { contentSecurityPolicy, escapeAttribute, makeNonce, renderPanelHtml } from '../../src/panel/html';
import { PanelReplayState } from '../../src/panel/replayState';
import { panelRun } from './run-fixtures';

const run = panelRun([], { runId: 'r1', file: 'm.ts', statNames: ['mean'], steps: 10, batchSize: 2 });
const s = (step: number): StepSample => ({ step, loss: 1, stepMs: 1, values: [step, step] });

test('panel HTML has a strict nonce CSP and no remote or inline sources', () => {
  const nonce = makeNonce();
  assert.match(nonce, /^[A-Za-z0-9+/]{22}==$/);
  assert.notEqual(nonce, makeNonce());
  const html = renderPanelHtml({
    cspSource: 'https://x.vscode-cdn.net',
    nonce,
    scriptUri: 'https://x.vscode-cdn.net/dist/webview.js',
    styleUri: 'https://x.vscode-cdn.net/media/panel.css',
  });
  const csp = /http-equiv="Content-Security-Policy" content="([^"]*)"/.exec(html)?.[1];
  assert.ok(csp, 'CSP meta present');
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, new RegExp(`script-src 'nonce-${nonce.replace(/[+/]/g, '\\$&')}'(;|$)`));
  assert.match(csp, /style-src https:\/\/x\.vscode-cdn\.net;/);
  assert.match(csp, /img-src https:\/\/x\.vscode-cdn\.net data:;/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*;|http:/);
  assert.equal((html.match(/<script/g) ?? []).length, 1);
  assert.match(
    html,
    new RegExp(`<script nonce="${nonce.replace(/[+/]/g, '\\$&')}" src="https://x.vscode-cdn.net/dist/webview.js"></script>`),
  );
  assert.doesNotMatch(html, /style="/);
});

test('CSP inputs that could break out of the policy are rejected', () => {
  assert.throws(() => contentSecurityPolicy("x; script-src 'unsafe-inline'", 'abc='), /invalid webview.cspSource/);
  assert.throws(() => contentSecurityPolicy('https://x', "a' 'unsafe-inline"), /invalid CSP nonce/);
  assert.equal(escapeAttribute('a"b<c>&'), 'a&quot;b&lt;c&gt;&amp;');
});

test('replay state rebuilds the latest run: samples, latest findings, ending, comparison', () => {
  const state = new PanelReplayState();
  state.record({ type: 'run-started', run: { ...run, runId: 'old' }, samples: [s(0)], findings: [] });
  state.record({ type: 'run-started', run, samples: [s(0)], findings: [] });
  state.record({ type: 'samples', runId: 'r1', samples: [s(1), s(2)] });
  state.record({ type: 'samples', runId: 'old', samples: [s(3)] });
  state.record({
    type: 'findings',
    runId: 'r1',
    findings: [{ kind: 'dead', severity: 'error', layer: 'a', step: 2, message: 'm', source: null }],
  });
  state.record({ type: 'focus-layer', runId: 'r1', layerIndex: 0 });
  state.record({ type: 'run-failed', runId: 'r1', error: { code: 'oom', message: 'out of memory' } });
  assert.equal(state.runId, 'r1');
  assert.equal(state.compareResult, undefined, 'no comparison yet: nothing to apply');
  const compare = { type: 'compare' as const, result: { file: 'm.ts', line: 3, candidates: [] } };
  state.record(compare);
  assert.equal(state.compareResult, compare.result, 'Apply uses the comparison the panel shows');
  const out = state.messages();
  assert.deepEqual(
    out.map((m) => m.type),
    ['run-started', 'compare', 'run-failed'],
  );
  const started = out[0] as Extract<(typeof out)[number], { type: 'run-started' }>;
  assert.deepEqual(
    started.samples.map((x) => x.step),
    [0, 1, 2],
  );
  assert.equal(started.findings[0].kind, 'dead');
  assert.equal(out[1], compare);
});

test('replay state caps memory by thinning old samples, always keeping the newest', () => {
  const state = new PanelReplayState(2 * 20);
  state.record({ type: 'run-started', run, samples: [], findings: [] });
  for (let i = 0; i < 100; i++) state.record({ type: 'samples', runId: 'r1', samples: [s(i)] });
  assert.ok(state.sampleCount <= 20, `${state.sampleCount} samples`);
  assert.ok(state.thinned > 0);
  const started = state.messages()[0] as { samples: StepSample[] };
  assert.equal(started.samples[started.samples.length - 1].step, 99);
});

test('exportBytes decodes PNG data URLs and refuses anything else', () => {
  const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2]).toString('base64');
  assert.deepEqual(Array.from(exportBytes('png', `data:image/png;base64,${png}`).slice(0, 4)), [0x89, 0x50, 0x4e, 0x47]);
  assert.throws(() => exportBytes('png', 'data:image/jpeg;base64,AAAA'), /PNG data must be a 'data:image\/png;base64,…' URL/);
  assert.throws(() => exportBytes('png', 'data:image/png;base64,AAAA'), /does not decode to a PNG/);
  assert.equal(new TextDecoder().decode(exportBytes('csv', 'a,b\r\n')), 'a,b\r\n');
  assert.throws(() => exportBytes('gif' as 'png', ''), /unknown export kind 'gif'/);
});

test('replay splits a long run: first chunk answers ready(), the rest follows, then the ending', () => {
  const state = new PanelReplayState();
  state.record({ type: 'run-started', run, samples: [], findings: [] });
  state.record({ type: 'samples', runId: 'r1', samples: Array.from({ length: 10 }, (_, i) => s(i)) });
  state.record({ type: 'run-done', runId: 'r1', report: { file: 'm.ts' } as never });
  state.record({ type: 'compare', result: { file: 'm.ts', line: 1, candidates: [] } });
  const { initial, follow } = state.replay(6); // 3 samples of 2 values per chunk
  assert.deepEqual(
    initial.map((m) => m.type),
    ['run-started', 'compare'],
  );
  assert.deepEqual(
    (initial[0] as { samples: StepSample[] }).samples.map((x) => x.step),
    [0, 1, 2],
  );
  assert.deepEqual(
    follow.map((m) => m.type),
    ['samples', 'samples', 'samples', 'run-done'],
  );
  const steps = follow.flatMap((m) => (m.type === 'samples' ? m.samples.map((x) => x.step) : []));
  assert.deepEqual(steps, [3, 4, 5, 6, 7, 8, 9]);
  const whole = state.messages();
  assert.deepEqual(
    whole.map((m) => m.type),
    ['run-started', 'compare', 'run-done'],
    'unchunked: one message per part',
  );
  assert.equal((whole[0] as { samples: StepSample[] }).samples.length, 10);
});
