/** `normscope swap <file>:<line> --to <norm> [--write]`. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { swapCommand } from '../../src/cli/swap';
import { normLayersSource } from '../../src/layers/emit';
import { capturingProcessOutput } from './capture';
import { FIXTURES, fixture, lineOf } from './refactor-harness';

/** Runs the command capturing what it prints (it writes synchronously, so nothing else interleaves). */
async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const { value: code, stdout, stderr } = await capturingProcessOutput(() => swapCommand(argv));
  return { code, stdout, stderr };
}

function scratchCopy(name: string): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'normscope-swap-'));
  const file = join(dir, name);
  copyFileSync(join(FIXTURES, name), file);
  return { dir, file };
}

test('prints the swapped source and says which file it needs, leaving the model untouched', async () => {
  const { dir, file } = scratchCopy('seq-bn.js');
  try {
    const before = readFileSync(file, 'utf8');
    const { code, stdout, stderr } = await run([`${file}:8`, '--to', 'groupNorm']);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /^const \{ GroupNormalization \} = require\('\.\/norm-layers'\);$/m);
    assert.match(stdout, /new GroupNormalization\(\{/);
    assert.match(stderr, /imports norm-layers\.js; run again with --write to create it/);
    assert.equal(readFileSync(file, 'utf8'), before);
    assert.ok(!existsSync(join(dir, 'norm-layers.js')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--write saves the model, creates norm-layers.js once and keeps it afterwards', async () => {
  const { dir, file } = scratchCopy('seq-bn.js');
  try {
    const first = await run([`${file}:8`, '--to=groupNorm', '--write']);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /Swapped BatchNormalization for GroupNormalization on line 8/);
    assert.match(first.stdout, /created norm-layers\.js/);
    assert.equal(readFileSync(join(dir, 'norm-layers.js'), 'utf8'), normLayersSource('cjs'));
    const written = readFileSync(file, 'utf8');
    assert.match(written, /new GroupNormalization\(/);

    const line = lineOf(written, 'batchNormalization({ momentum: 0.99 })');
    const second = await run(['--write', `${file}:${line}`, '--to', 'rmsNorm']);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /kept the existing norm-layers\.js/);
    assert.match(readFileSync(file, 'utf8'), /^const \{ GroupNormalization, RMSNormalization \} = require\('\.\/norm-layers'\);$/m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('exit 2 with a clear message when the line has no normalization call', async () => {
  const path = join(FIXTURES, 'seq-bn.js');
  const line = lineOf(fixture('seq-bn.js'), 'tf.layers.flatten()');
  const { code, stdout, stderr } = await run([`${path}:${line}`, '--to', 'layerNorm']);
  assert.equal(code, 2);
  assert.equal(stdout, '');
  assert.equal(stderr, `normscope swap: ${path}:${line}: no normalization call to swap here (only Flatten on line ${line})\n`);
});

test('exit 2 for bad arguments and unreadable files, naming the problem', async () => {
  const path = join(FIXTURES, 'seq-bn.js');
  const cases: [string[], RegExp][] = [
    [
      [`${path}:8`, '--to', 'fooNorm'],
      /unknown normalization 'fooNorm' for --to; use one of batchNorm, layerNorm, groupNorm, rmsNorm, instanceNorm/,
    ],
    [[`${path}:8`], /missing --to/],
    [[path, '--to', 'layerNorm'], /expected <file>:<line> with a line number from 1/],
    [[`${path}:0`, '--to', 'layerNorm'], /expected <file>:<line>/],
    [['--to', 'layerNorm'], /missing <file>:<line>/],
    [[`${path}:8`, '--to', 'layerNorm', '--force'], /unknown option '--force'/],
    [[`${join(FIXTURES, 'missing.js')}:3`, '--to', 'layerNorm'], /cannot read .*missing\.js/],
  ];
  for (const [argv, message] of cases) {
    const { code, stderr } = await run(argv);
    assert.equal(code, 2, argv.join(' '));
    assert.match(stderr, message);
  }
});
