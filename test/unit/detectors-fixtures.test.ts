/**
 * End to end: every fixture model in test/fixtures/detectors trains briefly through the engine
 * (fixed seed, cpu backend) and must raise the kinds marked `// expect: <kind> …` on the marked lines,
 * from the run (dynamic) and from the source (static); the healthy fixtures must raise nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { lintSource } from '../../src/analysis/lint';
import { STAT_NAMES, type Finding, type FindingKind, type LayerInfo, type StepSample } from '../../src/protocol/run';
import { DYNAMIC_FINDING_KINDS, STATIC_FINDING_KINDS } from '../../src/protocol/vocabulary';
import { detectFindings } from '../../src/diagnosis/detectors';
import { runTraining } from '../../src/worker/engine';

const DIR = join(process.cwd(), 'test/fixtures/detectors');
const STATIC_KINDS = new Set<FindingKind>(STATIC_FINDING_KINDS);
/** Fixtures that only exercise static rules (their runs are not needed). */
const STATIC_ONLY = new Set(['bn-in-recurrent.js', 'ln-on-conv.js', 'l2-before-norm.ts', 'post-norm.js', 'missing-norm.js']);

/** `// expect: a b` markers → kind → 1-based lines. */
function markers(text: string): Map<FindingKind, number[]> {
  const out = new Map<FindingKind, number[]>();
  text.split('\n').forEach((line, i) => {
    const m = /\/\/ expect: ([\w\s-]+)$/.exec(line);
    for (const kind of m ? m[1].trim().split(/\s+/) : []) out.set(kind as FindingKind, [...(out.get(kind as FindingKind) ?? []), i + 1]);
  });
  return out;
}

async function runFixture(file: string): Promise<Finding[]> {
  let layers: LayerInfo[] = [];
  let batchSize = 0;
  const samples: StepSample[] = [];
  const report = await runTraining(
    { file, steps: 10, backend: 'cpu', seed: 42, samplingInterval: 1 },
    (e) => {
      if (e.type === 'layers') {
        layers = e.layers;
        batchSize = e.batchSize;
      }
      if (e.type === 'progress') samples.push(...e.samples);
    },
    new AbortController().signal,
  );
  return detectFindings({ layers, statNames: STAT_NAMES, samples, loss: report.loss.map((l) => l ?? NaN), batchSize });
}

const fixtures = readdirSync(DIR)
  .filter((f) => /\.(js|mjs|ts)$/.test(f))
  .sort();

test('there is a fixture for every finding kind, and healthy ones', () => {
  const marked = new Set(fixtures.flatMap((f) => [...markers(readFileSync(join(DIR, f), 'utf8')).keys()]));
  // rough-landscape needs the landscape instrument (test/unit/landscape-reproduction.test.ts).
  const all = [...DYNAMIC_FINDING_KINDS, ...STATIC_FINDING_KINDS];
  assert.deepEqual(
    all.filter((k) => !marked.has(k)),
    [],
  );
  assert.ok(fixtures.includes('healthy-cnn-bn.js') && fixtures.includes('healthy-mlp-ln.js'));
});

for (const name of fixtures) {
  const file = join(DIR, name);
  const text = readFileSync(file, 'utf8');
  const expected = markers(text);

  test(`${name}: static findings are exactly the marked ones`, () => {
    const got = lintSource(text, file)
      .map((f) => `${f.kind}@${f.source?.line}`)
      .sort();
    const want = [...expected]
      .filter(([k]) => STATIC_KINDS.has(k))
      .flatMap(([k, lines]) => lines.map((l) => `${k}@${l}`))
      .sort();
    // A kind marked on several lines needs a finding on one of them.
    const wantKinds = new Map([...expected].filter(([k]) => STATIC_KINDS.has(k)));
    for (const [kind, lines] of wantKinds)
      assert.ok(
        got.some((g) => lines.some((l) => g === `${kind}@${l}`)),
        `${kind} expected on line ${lines.join('/')}; got ${got.join(', ') || 'nothing'}`,
      );
    assert.ok(
      got.every((g) => want.includes(g)),
      `unexpected static findings: ${got.filter((g) => !want.includes(g)).join(', ')}`,
    );
  });

  if (STATIC_ONLY.has(name)) continue;
  test(`${name}: the run raises the marked kinds on the marked layers${expected.size === 0 ? ' (healthy: none)' : ''}`, async () => {
    const findings = await runFixture(file);
    const dynamicWanted = [...expected].filter(([k]) => !STATIC_KINDS.has(k));
    if (dynamicWanted.length === 0) {
      assert.deepEqual(
        findings.map((f) => `${f.kind} ${f.layer}: ${f.message}`),
        [],
      );
      return;
    }
    for (const [kind, lines] of dynamicWanted) {
      const hits = findings.filter((f) => f.kind === kind);
      assert.ok(hits.length > 0, `${kind} not raised; got ${findings.map((f) => `${f.kind}@${f.layer}`).join(', ') || 'nothing'}`);
      assert.ok(
        hits.some((f) => f.source && lines.includes(f.source.line)),
        `${kind} raised at ${hits.map((f) => `${f.layer}@${f.source?.line}`).join(', ')}, expected line ${lines.join('/')}`,
      );
      for (const f of hits) assert.ok(f.message.length > 40 && f.fix, `${kind} needs a why and a fix`);
    }
  });
}
