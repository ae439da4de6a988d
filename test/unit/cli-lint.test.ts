import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lintCommand } from '../../src/cli/lint';
import { capturingProcessOutput } from './capture';

/** Runs the command with stdout/stderr captured. */
async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const { value: code, stdout, stderr } = await capturingProcessOutput(() => lintCommand(argv));
  return { code, out: stdout, err: stderr };
}

const dir = mkdtempSync(join(tmpdir(), 'normscope-lint-'));
const bad = join(dir, 'bad.js');
writeFileSync(
  bad,
  `const tf = require('@tensorflow/tfjs');
const m = tf.sequential();
m.add(tf.layers.dense({ units: 8, inputShape: [4] }));
m.add(tf.layers.batchNormalization());
module.exports = m;
exports.normscope = { batchSize: 4 };
`,
);
const good = join(dir, 'good.js');
writeFileSync(
  good,
  "const tf = require('@tensorflow/tfjs');\nmodule.exports = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [2] })] });\n",
);

test('--json prints { file, flags } and exits 0', async () => {
  const r = await run([bad, '--json']);
  assert.equal(r.code, 0);
  const json = JSON.parse(r.out);
  assert.equal(json.file, bad);
  assert.deepEqual(
    json.flags.map((f: { kind: string; source: { line: number } }) => [f.kind, f.source.line]),
    [['bn-small-batch', 4]],
  );
});

test('the table lists line, severity, kind, layer, message and fix', async () => {
  const r = await run([bad]);
  assert.equal(r.code, 0);
  assert.match(r.out, /^4:7\s+warning\s+bn-small-batch\s+BatchNormalization$/m);
  assert.match(r.out, /Fix: Use LayerNormalization/);
  assert.match(r.out, /1 finding \(1 warning\)/);
  assert.match((await run([good])).out, /no findings/);
});

test('--batch-size applies when the source does not set one', async () => {
  const r = await run([good, '--json', '--batch-size', '2']);
  assert.deepEqual(JSON.parse(r.out).flags, []);
  const src = join(dir, 'silent.js');
  writeFileSync(src, 'const m = tf.sequential();\nm.add(tf.layers.batchNormalization({ inputShape: [3] }));\n');
  assert.equal(JSON.parse((await run([src, '--json', '--batch-size', '2'])).out).flags[0].severity, 'error');
});

test('errors exit 2 with a message naming the problem', async () => {
  const missing = await run([join(dir, 'nope.js')]);
  assert.equal(missing.code, 2);
  assert.match(missing.err, /nope\.js: no such file/);
  assert.match((await run([])).err, /missing <file>/);
  assert.match((await run([dir])).err, /is a directory/);
  assert.match((await run([bad, '--bogus'])).err, /bogus/);
  assert.match((await run([bad, '--batch-size', 'x'])).err, /--batch-size must be a positive integer/);
  assert.equal((await run([bad, good])).code, 2);
});
