// `normscope run` (src/cli/run.ts): argument split at `--`, `--steps all`, and a real run through the forked worker.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { parseRunArgs, runCommand } from '../../src/cli/run';
import { splitArgs } from '../../src/runner/scriptArgs';
import { capturingIO } from './capture';
import { FIXTURES, WORKER } from './engine-fixtures';

const script = (name: string) => path.join(FIXTURES, '../scripts', name);

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const { io, printed } = capturingIO();
  const code = await runCommand(args, WORKER, io);
  return { code, ...printed };
}

test('flags before `--` are ours, everything after goes to the script', () => {
  const parsed = parseRunArgs(['train.js', '--steps', '7', '--json', '--', '--epochs', '3', '--steps', '9']);
  assert.ok(parsed !== 'help');
  assert.equal(parsed.options.file, path.resolve('train.js'));
  assert.equal(parsed.options.steps, 7);
  assert.deepEqual(parsed.options.script, { args: ['--epochs', '3', '--steps', '9'] });
  assert.equal(parsed.json, true);
});

test('--steps all trains until the script ends', () => {
  for (const argv of [
    ['t.js', '--steps', 'all'],
    ['t.js', '--steps=all'],
  ]) {
    const parsed = parseRunArgs(argv);
    assert.ok(parsed !== 'help');
    assert.deepEqual(parsed.options.script, { args: [], untilDone: true });
  }
});

test('usage errors: no script, a bad --steps, --batch-size', async () => {
  for (const [args, message] of [
    [[], /missing <script>/],
    [['t.js', '--steps', 'many'], /--steps must be a positive integer/],
    [['t.js', '--batch-size', '8'], /its own batch size/],
  ] as const) {
    const { code, stderr } = await run([...args]);
    assert.equal(code, 2);
    assert.match(stderr, message);
    assert.match(stderr, /Usage: normscope run <script>/);
  }
});

test('a script run prints the JSON report of its real-data training', async () => {
  const { code, stdout, stderr } = await run([
    script('csv/train.js'),
    '--steps',
    '10',
    '--backend',
    'cpu',
    '--json',
    '--',
    '--epochs',
    '5',
  ]);
  assert.equal(code, 0, stderr);
  const report = JSON.parse(stdout);
  assert.equal(report.syntheticData, false);
  assert.equal(report.steps, 10);
  assert.equal(report.backend, 'cpu');
  assert.equal(report.layers.length, 4);
});

test('a script error exits 2 with file:line on stderr', async () => {
  const file = script('errors/rejects.js');
  const { code, stderr } = await run([file, '--backend', 'cpu']);
  assert.equal(code, 2);
  assert.match(stderr, new RegExp(`normscope run: ${file.replace(/[.\\/]/g, '\\$&')}:7:\\d+: rejects\\.js failed: ENOENT`));
});

test('script arguments typed in the editor split like a shell', () => {
  assert.deepEqual(splitArgs('--epochs 3  --data "my data.csv" --name \'a b\' --q "say \\"hi\\""'), [
    '--epochs',
    '3',
    '--data',
    'my data.csv',
    '--name',
    'a b',
    '--q',
    'say "hi"',
  ]);
  assert.deepEqual(splitArgs('   '), []);
});
