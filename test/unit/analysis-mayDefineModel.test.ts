import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseModelSource } from '../../src/analysis/layerCalls';
import { lintSource } from '../../src/analysis/lint';
import { mayDefineModel } from '../../src/analysis/mayDefineModel';
import { EXAMPLES, FIXTURES } from './engine-fixtures';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const p = join(dir, entry);
    return statSync(p).isDirectory() ? sources(p) : /\.[cm]?[jt]sx?$/.test(entry) ? [p] : [];
  });
}

test('every fixture and example in which the analysis finds anything passes the pre-parse text test', () => {
  const files = [
    ...sources(FIXTURES),
    ...sources(join(FIXTURES, '..', 'workspace')),
    ...sources(join(FIXTURES, '..', 'refactor')),
    ...sources(EXAMPLES),
  ];
  assert.ok(files.length > 20, `only ${files.length} files`);
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const parsed = parseModelSource(text, file);
    const found = parsed.calls.length + parsed.models.length + lintSource(text, file, { parsed }).length;
    if (found > 0) assert.ok(mayDefineModel(text), `${file}: the analysis finds ${found} things but the text test would skip it`);
  }
});

test('the text test skips files that cannot define a model, and sees the ways one can', () => {
  assert.equal(mayDefineModel("import express from 'express';\nexport default function handler(req, res) { res.send('ok'); }"), false);
  assert.equal(mayDefineModel('const tfa = 1; // tfa and tfjs-like words do not count'), false);
  for (const src of [
    "import * as tfl from '@tensorflow/tfjs-node';",
    "const { layers } = require('@tensorflow/tfjs');",
    'const model = tf.sequential();',
    'export function buildModel() { return makeIt(); }',
    'async function createModel() {}',
  ])
    assert.ok(mayDefineModel(src), src);
});
