import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cacheFileFor, loadWithCodeCache } from '../../src/editor/codeCache';

test('a bundle loads the same with and without its code cache, and a changed bundle misses', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'normscope-codecache-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const bundle = join(dir, 'bundle.js');
  const cacheDir = join(dir, 'cache');
  writeFileSync(bundle, "const path = require('node:path');\nexports.name = path.basename(__filename);\nexports.square = (x) => x * x;\n");

  const first = loadWithCodeCache<{ name: string; square(x: number): number }>(bundle, cacheDir);
  assert.equal(first.cache, 'miss');
  assert.equal(first.exports.name, 'bundle.js');
  assert.equal(first.exports.square(7), 49);
  first.save();
  assert.ok(existsSync(cacheFileFor(bundle, cacheDir)));

  // The same code under another name: V8's in-process compilation cache (keyed by source and name) cannot
  // answer, so this exercises the code cache as a new session would.
  const copy = join(dir, 'copy.js');
  copyFileSync(bundle, copy);
  copyFileSync(cacheFileFor(bundle, cacheDir), cacheFileFor(copy, cacheDir));
  const second = loadWithCodeCache<{ square(x: number): number }>(copy, cacheDir);
  assert.equal(second.cache, 'hit');
  assert.equal(second.exports.square(9), 81);

  writeFileSync(bundle, 'exports.square = (x) => x * x * 1;\n// changed\n');
  const changed = loadWithCodeCache<{ square(x: number): number }>(bundle, cacheDir);
  assert.equal(changed.cache, 'miss', 'a changed bundle must not use the old cache');
  assert.equal(changed.exports.square(3), 9);
  changed.save();
  assert.equal(readdirSync(cacheDir).filter((f) => f.endsWith('.cache')).length, 3);
  assert.deepEqual(
    readdirSync(cacheDir).filter((f) => f.endsWith('.tmp')),
    [],
  );
});

test('a corrupt cache is rejected by V8 and the bundle still loads', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'normscope-codecache-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const bundle = join(dir, 'bundle.js');
  writeFileSync(bundle, `exports.ok = true; // ${dir}\n`); // source never compiled before in this process
  const cacheDir = join(dir, 'cache');
  mkdirSync(cacheDir, { recursive: true });
  writeFileSync(cacheFileFor(bundle, cacheDir), Buffer.from('not a V8 code cache'));
  const load = loadWithCodeCache<{ ok: boolean }>(bundle, cacheDir);
  assert.equal(load.cache, 'rejected');
  assert.equal(load.exports.ok, true);
});
