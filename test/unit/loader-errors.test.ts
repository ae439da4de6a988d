// Each way a model file can be wrong gives one clear error with the file and line, and the engine
// stays usable afterwards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixture, runInProcess } from './engine-fixtures';

async function failure(name: string) {
  const outcome = await runInProcess(fixture(name));
  assert.ok(outcome.error, `${name} should fail`);
  const errorEvents = outcome.events.filter((e) => e.type === 'error');
  assert.equal(errorEvents.length, 1, 'exactly one error event');
  assert.ok(!outcome.events.some((e) => e.type === 'done'));
  return outcome.error;
}

test("syntax error: esbuild's message at the offending line", async () => {
  const error = await failure('errors/syntax-error.js');
  assert.equal(error.code, 'syntax');
  assert.match(error.file!, /syntax-error\.js$/);
  assert.equal(error.line, 3);
  assert.match(error.message, /syntax-error\.js:3:\d+: /);
});

test('no model exported: lists what the module does export', async () => {
  const error = await failure('errors/no-model.js');
  assert.equal(error.code, 'no-model');
  assert.match(error.message, /exports: units, name/);
  assert.equal(error.line, 1);
});

test('factory throws: the line of the throw', async () => {
  const error = await failure('errors/factory-throws.js');
  assert.equal(error.code, 'factory-threw');
  assert.equal(error.line, 5);
  assert.match(error.message, /createModel\(\) threw: config file missing/);
});

test('shape mismatch while building: the line that added the layer', async () => {
  const error = await failure('errors/shape-mismatch.js');
  assert.equal(error.code, 'shape');
  assert.equal(error.line, 6);
  assert.match(error.message, /ndim|rank|expected/i);
});

test('unsupported layer in a model.json: the line naming its class', async () => {
  const error = await failure('errors/unknown-layer.json');
  assert.equal(error.code, 'unsupported-layer');
  assert.match(error.message, /FancyLayer/);
  assert.equal(error.line, 10);
});

test('a layer that throws during training: the layer and the line in its call()', async () => {
  const error = await failure('errors/throws-in-layer.js');
  assert.equal(error.code, 'training-failed');
  assert.match(error.message, /layer 'broken_Broken1'/);
  assert.equal(error.line, 6);
});

test('missing file', async () => {
  const error = await failure('errors/does-not-exist.js');
  assert.equal(error.code, 'bad-file');
});

test('after all those failures the engine still trains a good model', async () => {
  const { report } = await runInProcess(fixture('module-exports-model.js'));
  assert.ok(report);
  assert.equal(report.loss.length, 3);
});
