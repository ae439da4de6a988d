// The lint cache follows the helper modules a script's lens depends on (src/runner/pythonLint.ts, PythonLintCache):
// the same script text is linted again when a helper the lint read changed on disk, and only then.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { lintPython, PythonLintCache } from '../../src/runner/pythonLint';
import { pythonEnginePath } from '../../src/runner/pythonClient';
import { WORKER } from './engine-fixtures';

const ENGINE = pythonEnginePath(WORKER);
const SCRIPT = ['from engine import prepare, train_one_epoch', 'model = object()', 'prepare(model)', 'train_one_epoch(model)', ''].join(
  '\n',
);
const TRAINS = '    model.loss().backward()\n';
const IDLE = '    pass\n';
/** engine.py with `prepare` and `train_one_epoch` each training or not. */
const engineText = (prepare: string, epoch: string) => `def prepare(model):\n${prepare}\ndef train_one_epoch(model):\n${epoch}`;

test('a helper changed on disk: the same script text is linted again and its lens moves, disappears, appears', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'normscope-deps-'));
  const script = path.join(dir, 'train.py');
  const engine = path.join(dir, 'engine.py');
  let age = 600;
  /** Writes engine.py dated in the past (each write older than the slack, and distinct): only the stamps tell. */
  const writeEngine = (text: string) => {
    fs.writeFileSync(engine, text);
    const when = Date.now() / 1000 - age--;
    fs.utimesSync(engine, when, when);
  };
  let lints = 0;
  const cache = new PythonLintCache((file, text) => (lints++, lintPython(file, ENGINE, {}, undefined, text)));
  const lensLines = async () => (await cache.get(script, SCRIPT)).trainingCalls.map((c) => `${c.line} ${c.receiver}`);
  try {
    fs.writeFileSync(script, SCRIPT);
    writeEngine(engineText(IDLE, TRAINS));
    assert.deepEqual(await lensLines(), ['4 train_one_epoch']);
    assert.deepEqual((await cache.get(script, SCRIPT)).dependencies, [engine]);
    assert.equal(lints, 1, 'nothing changed: the cached lint');

    writeEngine(engineText(TRAINS, IDLE));
    assert.deepEqual(await lensLines(), ['3 prepare'], 'the loop moved to prepare()');
    assert.equal(lints, 2);
    writeEngine(engineText(IDLE, IDLE));
    assert.deepEqual(await lensLines(), [], 'nothing trains any more');
    writeEngine(engineText(IDLE, TRAINS));
    assert.deepEqual(await lensLines(), ['4 train_one_epoch']);
    fs.rmSync(engine);
    assert.deepEqual(await lensLines(), [], 'engine.py deleted');
    assert.equal(lints, 5);
    await lensLines();
    assert.equal(lints, 5, 'no dependency read, nothing to watch');

    // A helper modified just before the lint started may have changed after it was read: the next request checks again.
    fs.writeFileSync(engine, engineText(IDLE, TRAINS));
    cache.forget(script);
    assert.deepEqual(await lensLines(), ['4 train_one_epoch']);
    await lensLines();
    assert.equal(lints, 7);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('invalidate drops the lints that read a file (running ones, and for a new file those of scripts above it)', async () => {
  const lint = (dependencies: string[]) => ({ findings: [], calls: [], trainingCalls: [], dependencies, models: [] });
  const missing = path.join(os.tmpdir(), 'no-such-dir', 'engine.py');
  let pending: ((v: ReturnType<typeof lint>) => void) | undefined;
  const asked: string[] = [];
  const cache = new PythonLintCache((file) => {
    asked.push(file);
    if (file === 'slow.py') return new Promise((resolve) => (pending = resolve));
    return Promise.resolve(lint(file === 'train.py' ? [missing] : []));
  });
  await cache.get('train.py', 'x');
  await cache.get('models.py', 'y');
  assert.equal(cache.invalidate(path.join(os.tmpdir(), 'other.py')), false, 'no lint read it');
  assert.equal(cache.invalidate(missing), true);
  await cache.get('train.py', 'x');
  await cache.get('models.py', 'y');
  assert.deepEqual(asked, ['train.py', 'models.py', 'train.py'], 'only the dependent is linted again');
  // A new file may be the module an import of a script in a folder above could not find: only those scripts go.
  const script = path.join(os.tmpdir(), 'project', 'train.py');
  await cache.get(script, 'w');
  assert.equal(cache.invalidate(path.join(os.tmpdir(), 'project', 'lib', 'engine.py')), false, 'changed, not created');
  assert.equal(cache.invalidate(path.join(os.tmpdir(), 'elsewhere', 'engine.py'), true), false);
  assert.equal(cache.invalidate(path.join(os.tmpdir(), 'project', 'lib', 'engine.py'), true), true);
  await cache.get(script, 'w');
  assert.deepEqual(asked.splice(3), [script, script]);
  // A lint still running may have read the file before it changed.
  const slow = cache.get('slow.py', 'z');
  assert.equal(cache.invalidate(path.join(os.tmpdir(), 'other.py')), true);
  pending!(lint([]));
  await slow;
  const again = cache.get('slow.py', 'z');
  pending!(lint([]));
  await again;
  await cache.get('slow.py', 'z');
  assert.deepEqual(asked.slice(3), ['slow.py', 'slow.py'], 'linted again once, then cached');
});
