// Layers real PyTorch code has that are not leaf modules, on public code (test/fixtures/pytorch/public, see its
// NOTICE): functional activations in forward (the MNIST example's F.relu, kuangliu/pytorch-cifar's
// F.relu(self.bn1(self.conv1(x)))), nn.MultiheadAttention (the word-language model's Transformer); a dead
// activation's finding also on the line of the layer that feeds it; the batch size of the training step, not of an
// evaluation forward nor of a sequence-first input's first dimension.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { LayerReport, RunReportJson } from '../../src/protocol';
import { runCommand } from '../../src/cli/run';
import { runCheckCommand, WORKER } from './engine-fixtures';

const PY_FIXTURES = [path.resolve(__dirname, '../../../test/fixtures/pytorch'), path.resolve('test/fixtures/pytorch')].find((p) =>
  fs.existsSync(p),
)!;
const py = (name: string) => path.join(PY_FIXTURES, name);
const WORD_LM = py('public/pytorch-examples/word_language_model/main.py');

async function check(file: string, ...extra: string[]): Promise<RunReportJson> {
  const { code, stdout, stderr } = await runCheckCommand([file, '--json', ...extra]);
  assert.equal(code, 0, stderr);
  return JSON.parse(stdout) as RunReportJson;
}

async function runScript(argv: string[]): Promise<RunReportJson> {
  let stdout = '';
  let stderr = '';
  const code = await runCommand(argv, WORKER, {
    stdout: { write: (t: string) => ((stdout += t), true) },
    stderr: { write: (t: string) => ((stderr += t), true) },
  });
  assert.equal(code, 0, stderr);
  return JSON.parse(stdout) as RunReportJson;
}

const numbers = (layer: LayerReport, stat: keyof LayerReport['stats']) => (layer.stats[stat] ?? []).every((v) => typeof v === 'number');

test("a dead F.relu in the MNIST example's forward: the finding on the F.relu line and on fc1's, naming both", async () => {
  const report = await check(py('mnist_dead_fc1.py'), '--steps', '4');
  const main = py('public/pytorch-examples/mnist/main.py');
  const rows = report.layers.map((l) => `${l.name}:${l.className}@${l.source?.line}`);
  assert.deepEqual(rows.slice(0, 7), [
    'conv1:Conv2d@13',
    'relu@L22:F.relu@22',
    'conv2:Conv2d@14',
    'relu@L24:F.relu@24',
    'dropout1:Dropout@15',
    'fc1:Linear@17',
    'relu@L29:F.relu@29',
  ]);
  const relu = report.layers.find((l) => l.name === 'relu@L29')!;
  assert.equal(relu.source?.file, main);
  assert.equal(relu.fedBy, 'fc1');
  assert.deepEqual(relu.stats.deadFraction, [1, 1, 1, 1]);
  assert.deepEqual(report.layers.find((l) => l.name === 'relu@L22')!.stats.deadFraction, [0, 0, 0, 0]);
  const dead = report.flags.filter((f) => f.kind === 'dead');
  assert.deepEqual(
    dead.map((f) => `${f.layer}@${f.source?.line}`),
    ['relu@L29@29'],
  );
  assert.equal(dead[0].severity, 'error');
  assert.deepEqual(
    dead[0].related?.map((r) => `${r.layer}@${r.source?.file === main ? '' : r.source?.file}${r.source?.line}`),
    ['fc1@17'],
  );
  assert.match(dead[0].related![0].message, /fc1 \(Linear\) feeds relu@L29.*100% of the units are dead/);
});

test('a healthy CIFAR ResNet (F.relu in every block): every functional ReLU measured, none dead, in call order', async () => {
  const report = await check(py('cifar_resnet.py'), '--steps', '5');
  const relus = report.layers.filter((l) => l.className === 'F.relu');
  assert.equal(relus.length, 9, 'one after the stem, two per BasicBlock');
  for (const r of relus) {
    assert.deepEqual(r.stats.deadFraction, [0, 0, 0, 0, 0], r.name);
    assert.ok(numbers(r, 'mean') && numbers(r, 'activationGradNorm') && numbers(r, 'gain'), `${r.name} has every activation statistic`);
  }
  assert.deepEqual(
    report.flags.filter((f) => f.kind === 'dead' || f.kind === 'saturated'),
    [],
  );
  const names = report.layers.map((l) => l.name);
  // F.relu(self.bn1(self.conv1(x))) is fed by bn1; the relu after `out += self.shortcut(x)` by no single layer.
  assert.equal(report.layers.find((l) => l.name === 'layer2.0.relu@L35')?.fedBy, 'layer2.0.bn1');
  assert.equal(report.layers.find((l) => l.name === 'layer2.0.relu@L38')?.fedBy, undefined);
  assert.deepEqual(names.slice(names.indexOf('layer2.0.conv2'), names.indexOf('layer2.0.relu@L38') + 1), [
    'layer2.0.conv2',
    'layer2.0.bn2',
    'layer2.0.shortcut.0',
    'layer2.0.shortcut.1',
    'layer2.0.relu@L38',
  ]);
});

test('a dead nn.ReLU module: its finding also on the line of the Linear that feeds it', async () => {
  const report = await check(py('dead_relu_helper.py'), '--steps', '8');
  const dead = report.flags.filter((f) => f.kind === 'dead');
  assert.deepEqual(
    dead.map((f) => [f.layer, f.source?.line, f.related?.map((r) => `${r.layer}@${r.source?.line}`)]),
    [
      ['body.1', 12, ['body.0@10']],
      ['body.3', 12, ['body.2@10']],
    ],
  );
  assert.match(dead[0].related![0].message, /^body\.0 \(Linear\) feeds body\.1, where 100% of the units are dead/);
});

/** A small corpus in the word-language model's layout (train/valid/test.txt), long enough for several batches. */
function corpus(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'normscope-wikitext-'));
  const words = 'the a cat dog sat on mat ran far near tree house red blue green small big'.split(' ');
  let seed = 1;
  const next = () => (seed = (seed * 48271) % 2147483647);
  for (const [name, lines] of [
    ['train', 160],
    ['valid', 40],
    ['test', 40],
  ] as const) {
    const text = Array.from({ length: lines }, () => ` ${Array.from({ length: 9 }, () => words[next() % words.length]).join(' ')} \n`);
    fs.writeFileSync(path.join(dir, `${name}.txt`), text.join(''));
  }
  return dir;
}

function wordLm(model: string, dir: string): string[] {
  // Three batches of 35 x 20 per epoch: the script evaluates (no_grad, batches of 10) and saves the whole model
  // (torch.save(model)) between measured steps.
  return [
    WORD_LM,
    '--steps',
    '5',
    '--json',
    '--',
    '--data',
    dir,
    '--model',
    model,
    '--use-optimizer',
    '--lr',
    '0.001',
    '--emsize',
    '16',
    '--nhid',
    '16',
    '--nlayers',
    '2',
    '--nhead',
    '2',
    '--epochs',
    '4',
    '--save',
    path.join(dir, 'model.pt'),
  ];
}

test("the word-language model's Transformer: MultiheadAttention measured as a layer, batch 20 of its (35, 20) input", async () => {
  const dir = corpus();
  try {
    const report = await runScript(wordLm('Transformer', dir));
    assert.equal(report.steps, 5);
    assert.equal(report.batchSize, 20, 'sequence-first (nn.Transformer batch_first=False): dimension 1 is the batch');
    const attention = report.layers.filter((l) => l.className === 'MultiheadAttention');
    assert.deepEqual(
      attention.map((l) => l.name),
      ['encoder.layers.0.self_attn', 'encoder.layers.1.self_attn'],
    );
    for (const a of attention) {
      for (const stat of ['mean', 'std', 'gain', 'activationGradNorm', 'weightNorm', 'gradNorm', 'updateNorm', 'updateRatio'] as const)
        assert.ok(numbers(a, stat), `${a.name}: ${stat} ${JSON.stringify(a.stats[stat])}`);
      assert.ok(a.stats.weightNorm!.every((w) => w! > 0));
    }
    // The F.relu nn.TransformerEncoderLayer applies (library code): on the line that built the layers.
    const relu = report.layers.find((l) => l.name === 'encoder.layers.0.relu')!;
    assert.equal(relu.className, 'F.relu');
    assert.equal(relu.fedBy, 'encoder.layers.0.linear1');
    assert.equal(relu.source?.line, report.layers.find((l) => l.name === 'encoder.layers.0.linear1')?.source?.line);
    assert.ok(numbers(relu, 'deadFraction'));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("the word-language model's LSTM: batch 20, not its sequence length 35 nor its evaluation batch of 10", async () => {
  const dir = corpus();
  try {
    const report = await runScript(wordLm('LSTM', dir));
    assert.equal(report.batchSize, 20);
    assert.deepEqual(
      report.layers.map((l) => `${l.name}:${l.className}`),
      ['encoder:Embedding', 'drop:Dropout', 'rnn:LSTM', 'decoder:Linear'],
    );
    assert.ok(report.layers.every((l) => numbers(l, 'mean')));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('no_grad evaluation forwards (batches of 100, before training and after each step) are no part of a step', async () => {
  const report = await runScript([py('eval_between_steps.py'), '--steps', '4', '--json']);
  assert.equal(report.batchSize, 64);
  assert.deepEqual(
    report.layers.map((l) => l.name),
    ['fc1', 'bn', 'relu@L17', 'fc2'],
  );
});

test("a sigmoid on the model's output, confident under binary cross-entropy, is not a saturated finding", async () => {
  const report = await runScript([py('sparse_autoencoder.py'), '--steps', '30', '--json']);
  const output = report.layers.find((l) => l.name === 'sigmoid@L16')!;
  assert.equal(output.className, 'torch.sigmoid');
  assert.equal(output.modelOutput, true);
  assert.equal(report.layers.filter((l) => l.modelOutput).length, 1);
  const last = output.stats.saturatedFraction!.slice(-3);
  assert.ok(
    last.every((v) => v! > 0.5),
    `the output saturates: ${JSON.stringify(last)}`,
  );
  assert.deepEqual(
    report.flags.filter((f) => f.kind === 'saturated'),
    [],
  );
});
