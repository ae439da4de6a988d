// Static rules on PyTorch source (python/normscope/analysis/lint.py, Python's `ast`) through src/runner/pythonLint.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { lintPython, PythonLintCache, type PythonLint } from '../../src/runner/pythonLint';
import { pythonEnginePath } from '../../src/runner/pythonClient';
import { runErrorOf } from '../../src/protocol';
import { WORKER } from './engine-fixtures';

const PY_FIXTURES = [path.resolve(__dirname, '../../../test/fixtures/pytorch'), path.resolve('test/fixtures/pytorch')].find((p) =>
  fs.existsSync(p),
)!;
const py = (name: string) => path.join(PY_FIXTURES, name);
const ENGINE = pythonEnginePath(WORKER);
const kindsAt = (findings: { kind: string; source: { line: number } | null }[]) =>
  findings.map((f) => `${f.kind}@${f.source?.line}`).sort();

test('every static rule fires on its line of a PyTorch file', async () => {
  const { findings, calls } = await lintPython(py('lint_rules.py'), ENGINE);
  const lines = fs.readFileSync(py('lint_rules.py'), 'utf8').split('\n');
  const lineOf = (text: string) => lines.findIndex((l) => l.includes(text)) + 1;
  assert.deepEqual(
    kindsAt(findings),
    [
      `bn-in-recurrent@${lineOf('nn.BatchNorm1d(dim)')}`,
      `bn-small-batch@${lineOf('nn.BatchNorm1d(dim)')}`,
      `l2-before-norm@${lineOf('optim.AdamW(')}`,
      `ln-on-conv@${lineOf('nn.LayerNorm([32')}`,
      `missing-norm@${lineOf('# expect: missing-norm')}`,
      `post-norm@${lineOf('self.norm(x + self.ff(x))')}`,
    ].sort(),
  );
  assert.match(findings.find((f) => f.kind === 'bn-small-batch')!.message, /batch size 8 \(line \d+\)/);
  assert.deepEqual(findings.find((f) => f.kind === 'ln-on-conv')!.refactor, { action: 'swap', to: 'groupNorm' });
  const bn = calls.find((c) => c.className === 'BatchNorm1d')!;
  assert.deepEqual([bn.callee, bn.line, bn.column], ['nn.BatchNorm1d', lineOf('nn.BatchNorm1d(dim)'), 19]);
});

test('healthy and runtime-only fixtures raise no static finding; --batch-size overrides; unsaved text wins', async () => {
  for (const f of ['resnet_block.py', 'dead_relu_helper.py', 'exploding_convs.py'])
    assert.deepEqual((await lintPython(py(f), ENGINE)).findings, [], f);
  assert.deepEqual(
    kindsAt((await lintPython(py('resnet_block.py'), ENGINE, {}, 4)).findings).length,
    4,
    'each of the 4 BatchNorm2d call sites at batch 4',
  );
  const text = 'import torch.nn as nn\nfrom torch.utils.data import DataLoader\nbn = nn.BatchNorm2d(8)\nDataLoader([], batch_size=2)\n';
  const { findings } = await lintPython(py('resnet_block.py'), ENGINE, {}, undefined, text);
  assert.deepEqual(
    findings.map((f) => [f.kind, f.severity, f.source?.line, f.refactor]),
    [['bn-small-batch', 'error', 3, { action: 'swap', to: 'groupNorm' }]],
  );
});

test('l2-before-norm counts the LayerNorms nn.Transformer builds: a subclass in the module the script trains, a layer in the file', async () => {
  const folder = path.join(PY_FIXTURES, 'public/pytorch-examples/word_language_model');
  const script = path.join(folder, 'normscope_train_adamw.py');
  const { findings, dependencies } = await lintPython(script, ENGINE);
  const lines = fs.readFileSync(script, 'utf8').split('\n');
  assert.deepEqual(kindsAt(findings), [`l2-before-norm@${lines.findIndex((l) => l.includes('torch.optim.AdamW(')) + 1}`]);
  assert.match(
    findings[0].message,
    /of the TransformerModel it trains \(model\.py\): the LayerNorms of nn\.Transformer, the base of TransformerModel/,
  );
  assert.deepEqual(dependencies, [path.join(folder, 'model.py')], 'the lens cache drops the lint when model.py changes');
  const { findings: none, models } = await lintPython(path.join(folder, 'model.py'), ENGINE);
  assert.deepEqual(none, [], 'model.py builds no optimizer');
  assert.deepEqual(
    models.map((m) => `${m.name}(${m.params.join(', ')})/${m.required}`),
    [
      'RNNModel(rnn_type, ntoken, ninp, nhid, nlayers, dropout=0.5, tie_weights=False)/5',
      'TransformerModel(ntoken, ninp, nhead, nhid, nlayers, dropout=0.5)/5',
    ],
  );
  const text = [
    'import torch',
    'import torch.nn as nn',
    'class Encoder(nn.Module):',
    '    def __init__(self):',
    '        super().__init__()',
    '        self.layer = nn.TransformerEncoderLayer(64, 4)',
    'model = Encoder()',
    'opt = torch.optim.AdamW(model.parameters(), weight_decay=0.1)',
    '',
  ].join('\n');
  const inline = await lintPython(script, ENGINE, {}, undefined, text);
  assert.deepEqual(kindsAt(inline.findings), ['l2-before-norm@8']);
  assert.match(inline.findings[0].message, /the LayerNorms inside nn\.TransformerEncoderLayer \(line 6\)/);
  assert.deepEqual(inline.models, [], 'the file has its model instance: nothing to choose');
});

test('a syntax error is reported with its line; a missing interpreter says how to set one', async () => {
  await assert.rejects(lintPython(py('errors/syntax.py'), ENGINE), (e) => runErrorOf(e).code === 'syntax' && runErrorOf(e).line === 4);
  await assert.rejects(lintPython(py('resnet_block.py'), ENGINE, { explicit: '/nonexistent/python' }), (e) =>
    /normscope\.pythonPath/.test(runErrorOf(e).message),
  );
});

test("training calls (the script lens): the built optimizer's step() in the loop, else backward(); none in a model file", async () => {
  const lines = fs.readFileSync(py('train_script.py'), 'utf8').split('\n');
  const stepLine = lines.findIndex((l) => l.includes('optimizer.step()'));
  assert.deepEqual((await lintPython(py('train_script.py'), ENGINE)).trainingCalls, [
    { line: stepLine + 1, column: lines[stepLine].indexOf('optimizer') + 1, receiver: 'optimizer', method: 'step' },
  ]);
  // The optimizer is a parameter (not built here): its step is not recognised, the backward() in the loop is.
  const helper = [
    'import torch',
    'from torch import optim',
    'def train(model, opt, loader):',
    '    for x in loader:',
    '        loss = model(x).sum()',
    '        loss.backward()',
    '        opt.step()',
    'def once(model):',
    '    self_opt = optim.Adam(model.parameters())',
    '    model(1).backward()',
    '    self_opt.step()',
    '',
  ].join('\n');
  const run = (calls: string) => `if __name__ == "__main__":\n${calls}`; // a script: helpers alone get no lens (pytorch-scriptLens)
  const { trainingCalls } = await lintPython(
    py('resnet_block.py'),
    ENGINE,
    {},
    undefined,
    helper + run('    train(m, o, l)\n    once(m)\n'),
  );
  assert.deepEqual(
    trainingCalls,
    [{ line: 11, column: 5, receiver: 'self_opt', method: 'step' }],
    'a built optimizer wins, even outside a loop',
  );
  const noBuilt = [...helper.split('\n').slice(0, 7), run('    train(m, o, l)')].join('\n');
  assert.deepEqual((await lintPython(py('resnet_block.py'), ENGINE, {}, undefined, noBuilt)).trainingCalls, [
    { line: 6, column: 9, receiver: 'loss', method: 'backward' },
  ]);
  for (const f of ['resnet_block.py', 'dead_relu_helper.py'])
    assert.deepEqual((await lintPython(py(f), ENGINE)).trainingCalls, [], `${f} is a model file, not a script`);
});

test('the lint cache runs one lint per file text and retries a failed one', async () => {
  const asked: string[] = [];
  const cache = new PythonLintCache((file, text) => {
    asked.push(text);
    return text === 'bad'
      ? Promise.reject(new Error('syntax'))
      : Promise.resolve({ findings: [], calls: [], trainingCalls: [], dependencies: [], models: [] } as PythonLint);
  });
  await Promise.all([cache.get('a.py', 'x = 1'), cache.get('a.py', 'x = 1')]);
  await cache.get('a.py', 'x = 2');
  await assert.rejects(cache.get('a.py', 'bad'));
  await assert.rejects(cache.get('a.py', 'bad'));
  cache.forget('a.py');
  await cache.get('a.py', 'x = 2');
  assert.deepEqual(asked, ['x = 1', 'x = 2', 'bad', 'bad', 'x = 2']);
});
