// The "Check training script" lens on scripts whose loop lives in a helper (python/normscope/analysis/training_calls.py):
// torchvision-reference-style train.py + engine.py, a single-file tutorial, import forms, and a run of the reference.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { lintPython } from '../../src/runner/pythonLint';
import { pythonEnginePath } from '../../src/runner/pythonClient';
import type { RunReportJson } from '../../src/protocol';
import { runCommand } from '../../src/cli/run';
import { WORKER } from './engine-fixtures';

const PY_FIXTURES = [path.resolve(__dirname, '../../../test/fixtures/pytorch'), path.resolve('test/fixtures/pytorch')].find((p) =>
  fs.existsSync(p),
)!;
const REFERENCE = path.join(PY_FIXTURES, 'reference');
const ENGINE = pythonEnginePath(WORKER);
const lensesOf = async (file: string, text?: string) => (await lintPython(file, ENGINE, {}, undefined, text)).trainingCalls;
/** 1-based line and column of the first occurrence of `needle` in `text`. */
function at(text: string, needle: string): { line: number; column: number } {
  const lines = text.split('\n');
  const line = lines.findIndex((l) => l.includes(needle));
  assert.ok(line >= 0, needle);
  return { line: line + 1, column: lines[line].indexOf(needle) + 1 };
}

test('torchvision-style train.py: the lens is on the train_one_epoch(...) call in main(); engine.py and models.py get none', async () => {
  const train = fs.readFileSync(path.join(REFERENCE, 'train.py'), 'utf8');
  assert.deepEqual(await lensesOf(path.join(REFERENCE, 'train.py')), [
    { ...at(train, 'train_one_epoch(model'), receiver: 'train_one_epoch', method: 'call', module: 'engine.py' },
  ]);
  // The files read to place it (SmallNet(...) is followed into models.py too): the editor re-lints when one changes.
  assert.deepEqual((await lintPython(path.join(REFERENCE, 'train.py'), ENGINE)).dependencies, [
    path.join(REFERENCE, 'engine.py'),
    path.join(REFERENCE, 'models.py'),
  ]);
  // engine.py holds the loop (backward() and step()) but only defines it: running it trains nothing.
  assert.deepEqual(await lensesOf(path.join(REFERENCE, 'engine.py')), []);
  assert.deepEqual(await lensesOf(path.join(REFERENCE, 'models.py')), []);
  // With a __main__ block it is a script again, and its own loop lines get the lens as before.
  const engine = fs.readFileSync(path.join(REFERENCE, 'engine.py'), 'utf8');
  const runnable = `${engine}\nif __name__ == "__main__":\n    print("engine")\n`;
  assert.deepEqual(await lensesOf(path.join(REFERENCE, 'engine.py'), runnable), [
    { ...at(engine, 'loss.backward()'), receiver: 'loss', method: 'backward' },
  ]);
});

test('a single-file tutorial: one lens, on the loop inside train(), not also on the train(...) call; no call, no lens', async () => {
  const file = path.join(PY_FIXTURES, 'tutorial_train.py');
  const text = fs.readFileSync(file, 'utf8');
  assert.deepEqual(await lensesOf(file), [{ ...at(text, 'loss.backward()'), receiver: 'loss', method: 'backward' }]);
  const helperOnly = text.slice(0, text.indexOf('\nif __name__') + 1);
  assert.deepEqual(await lensesOf(file, helperOnly), [], 'train() is defined but never run');
  // Notebook style: the call at module level reaches train() as well.
  const topLevel = `${helperOnly}model = MLP()\ntrain(model, [], optim.Adam(model.parameters()))\n`;
  assert.deepEqual(await lensesOf(file, topLevel), [{ ...at(text, 'loss.backward()'), receiver: 'loss', method: 'backward' }]);
});

function tree(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'normscope-lens-'));
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

test('helpers imported as a module, through a package with relative imports, or passed to a launcher', async () => {
  const dir = tree({
    'trainlib/__init__.py': 'from .loop import fit\n',
    'trainlib/loop.py':
      'from .steps import train_step\n\ndef fit(model, loader, opt):\n    for batch in loader:\n        train_step(model, batch, opt)\n',
    'trainlib/steps.py': 'def train_step(model, batch, opt):\n    opt.zero_grad()\n    model(batch).mean().backward()\n    opt.step()\n',
    'engine.py': 'def train_one_epoch(model, loader, optimizer):\n    for x in loader:\n        optimizer.step(lambda: model(x))\n',
    'metrics.py': 'def evaluate(model, loader):\n    return [model(x) for x in loader]\n',
  });
  try {
    const script = [
      'import fire',
      'import engine as E',
      'from trainlib import fit',
      'from metrics import evaluate',
      'def main(model, loader, opt):',
      '    for epoch in range(3):',
      '        fit(model, loader, opt)',
      '        E.train_one_epoch(model, loader, opt)',
      '        evaluate(model, loader)',
      'if __name__ == "__main__":',
      '    fire.Fire(main)',
      '',
    ].join('\n');
    const file = path.join(dir, 'train.py');
    const lint = await lintPython(file, ENGINE, {}, undefined, script);
    assert.deepEqual(lint.trainingCalls, [
      { ...at(script, 'fit(model'), receiver: 'fit', method: 'call', module: path.join('trainlib', 'loop.py') },
      { ...at(script, 'E.train_one_epoch'), receiver: 'E.train_one_epoch', method: 'call', module: 'engine.py' },
    ]);
    // Every module followed, through the package's re-export; not fire (installed, not a neighbour).
    assert.deepEqual(
      lint.dependencies,
      ['engine.py', 'metrics.py', 'trainlib/__init__.py', 'trainlib/loop.py', 'trainlib/steps.py'].map((f) => path.join(dir, f)),
    );
    // A helper more than DEPTH (4) calls away from its step is not followed: no lens, rather than a guess.
    const chain = ['def f0(m):\n    m.backward()\n'];
    for (let i = 1; i <= 5; i++) chain.push(`def f${i}(m):\n    f${i - 1}(m)\n`);
    fs.writeFileSync(path.join(dir, 'deep.py'), chain.join(''));
    const call = (n: number) => `from deep import f${n}\nf${n}(None)\n`;
    assert.deepEqual(await lensesOf(file, call(4)), [{ line: 2, column: 1, receiver: 'f4', method: 'call', module: 'deep.py' }]);
    assert.deepEqual(await lensesOf(file, call(5)), []);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('"Check training script" on the reference train.py measures the model of models.py through engine.py’s loop', async () => {
  let stdout = '';
  let stderr = '';
  const code = await runCommand([path.join(REFERENCE, 'train.py'), '--steps', '6', '--json', '--', '--epochs', '2'], WORKER, {
    stdout: { write: (t: string) => ((stdout += t), true) },
    stderr: { write: (t: string) => ((stderr += t), true) },
  });
  assert.equal(code, 0, stderr);
  const report = JSON.parse(stdout) as RunReportJson;
  // evaluate() runs under torch.inference_mode() after the first epoch's 5 measured steps: the hooks skip it.
  assert.equal(report.steps, 6);
  assert.equal(report.syntheticData, false);
  const models = path.join(REFERENCE, 'models.py');
  const source = fs.readFileSync(models, 'utf8');
  assert.deepEqual(
    report.layers.map((l) => `${l.name} ${l.className}@${l.source?.line}`),
    [
      `features.0 Conv2d@${at(source, 'nn.Conv2d(').line}`,
      `features.1 BatchNorm2d@${at(source, 'nn.BatchNorm2d(').line}`,
      `features.2 ReLU@${at(source, 'nn.ReLU(').line}`,
      `features.3 MaxPool2d@${at(source, 'nn.MaxPool2d(').line}`,
      `fc Linear@${at(source, 'self.fc = ').line}`,
      `relu ReLU@${at(source, 'self.relu = ').line}`,
      `head Linear@${at(source, 'self.head = ').line}`,
    ],
  );
  for (const layer of report.layers) assert.equal(layer.source?.file, models);
  assert.deepEqual(report.layers[0].sampledSteps, [0, 1, 2, 3, 4, 5]);
  assert.ok(report.layers.at(-1)!.stats.gradNorm!.every((g) => typeof g === 'number' && g > 0));
  // The init's constant negative bias kills the hidden ReLUs: the finding lands on models.py's line.
  const dead = report.flags.filter((f) => f.kind === 'dead');
  assert.deepEqual(
    dead.map((f) => [f.layer, f.source?.file, f.source?.line]),
    [['relu', models, at(source, 'self.relu = ').line]],
  );
  assert.ok(report.backendNotes.some((n) => /training script train\.py, model SmallNet trained by SGD/.test(n)));
});
