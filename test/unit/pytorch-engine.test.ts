// The PyTorch engine (python/normscope/engine) end to end through `normscope check <file>.py`: findings of the
// Python fixtures on their creating lines, the report contract, user errors with file:line, interpreter choice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RunEvent, RunReportJson } from '../../src/protocol';
import { STAT_NAMES } from '../../src/protocol';
import { interpreterCandidates, missingTorchMessage } from '../../src/runner/pythonInterpreter';
import { pytorchNormName } from '../../src/diagnosis/pytorch';
import { PythonClient, pythonEnginePath } from '../../src/runner/pythonClient';
import { runCommand } from '../../src/cli/run';
import { runCheckCommand, WORKER } from './engine-fixtures';

const PY_FIXTURES = [path.resolve(__dirname, '../../../test/fixtures/pytorch'), path.resolve('test/fixtures/pytorch')].find((p) =>
  fs.existsSync(p),
)!;
const py = (name: string) => path.join(PY_FIXTURES, name);

async function checkJson(file: string, ...extra: string[]): Promise<RunReportJson> {
  const { code, stdout, stderr } = await runCheckCommand([file, '--json', ...extra]);
  assert.equal(code, 0, stderr);
  return JSON.parse(stdout) as RunReportJson;
}

/**
 * Every finding's text names PyTorch classes and APIs (`nn.LayerNorm`, `nn.LeakyReLU`, `clip_grad_norm_`), never
 * tfjs ones (`LayerNormalization`, `leakyReLU`, `clipNorm`, `glorotNormal / heNormal`).
 */
function assertPyTorchNames(report: RunReportJson, ...expected: RegExp[]): void {
  const text = report.flags.map((f) => `${f.message} ${f.fix}`).join('\n');
  for (const e of expected) assert.match(text, e);
  assert.doesNotMatch(text, /[A-Z][a-z]+Normalization\b/);
  assert.doesNotMatch(text, /clipNorm|clipValue|glorot|heNormal|leakyReLU|kernelInitializer|tf\.layers/);
}

const at = (report: RunReportJson, kind: string) => report.flags.filter((f) => f.kind === kind).map((f) => `${f.layer}@${f.source?.line}`);

test('dead ReLUs built in a helper loop: findings on the loop line, layers mapped to their creating lines', async () => {
  const report = await checkJson(py('dead_relu_helper.py'), '--steps', '8');
  assert.deepEqual(at(report, 'dead'), ['body.1@12', 'body.3@12']);
  assertPyTorchNames(report, /insert nn\.LayerNorm\)/, /use nn\.LeakyReLU\./);
  const lines = Object.fromEntries(report.layers.map((l) => [l.name, l.source?.line]));
  assert.deepEqual(lines, { inp: 19, 'body.0': 10, 'body.1': 12, 'body.2': 10, 'body.3': 12, head: 21 });
  assert.equal(report.layers[0].source?.file, py('dead_relu_helper.py'));
  assert.equal(report.layers[0].source?.column, 20, 'column of the nn.Linear( call');
  assert.equal(report.syntheticData, true);
  assert.ok(
    report.backendNotes.some((n) =>
      /input of shape \(20,\) from Linear\(20, \.\.\.\) at `inp`, the layer forward applies to its input first/.test(n),
    ),
  );
});

test('exploding convs: variance growing through depth, on the conv line of the builder loop', async () => {
  const report = await checkJson(py('exploding_convs.py'), '--steps', '6');
  assert.deepEqual(
    at(report, 'exploding').filter((s) => !s.startsWith('null')),
    ['model.1@11'],
  );
  assertPyTorchNames(
    report,
    /Insert nn\.GroupNorm after the weight layers/,
    /nn\.init\.xavier_normal_ \/ nn\.init\.kaiming_normal_/,
    /torch\.nn\.utils\.clip_grad_norm_/,
  );
  assert.equal(report.batchSize, 8, 'the spec batch_size wins');
});

test('BatchNorm at batch 2: train/inference drift on the BatchNorm1d line', async () => {
  const report = await checkJson(py('bn_batch2.py'));
  assert.deepEqual(at(report, 'bn-train-inference-drift'), ['bn@13']);
  assert.equal(report.steps, 20);
  const bn = report.layers.find((l) => l.name === 'bn')!;
  assert.equal(bn.className, 'BatchNorm1d');
  assert.ok(
    (bn.stats.gammaMean ?? []).every((g) => typeof g === 'number'),
    'γ measured',
  );
});

test('a healthy ResNet-style network raises nothing and reports every stat per sampled step', async () => {
  const report = await checkJson(py('resnet_block.py'), '--steps', '6', '--sampling-interval', '2');
  assert.equal(report.steps, 30, 'the spec steps win over --steps');
  assert.deepEqual(report.flags, []);
  assert.ok(!report.layers.some((l) => l.className === 'Sequential'), 'empty containers are not layers');
  const conv = report.layers.find((l) => l.name === 'layer1.conv1')!;
  assert.equal(conv.source?.line, 13);
  assert.deepEqual(
    conv.sampledSteps,
    Array.from({ length: 15 }, (_, i) => 2 * i),
  );
  assert.deepEqual(Object.keys(conv.stats), [...STAT_NAMES]);
  assert.ok(conv.stats.gradNorm!.every((g) => typeof g === 'number' && g > 0));
  assert.equal(typeof report.timing.plainStepMs, 'number');
  assert.equal(typeof report.evalLoss, 'number');
});

test('the CIFAR-10 tutorial network as people copy it: the criterion is not the model, its loss and SGD settings are used', async () => {
  const report = await checkJson(py('tutorial_cifar_net.py'), '--steps', '5');
  assert.deepEqual(report.backendNotes.slice(1, 3), [
    'loss CrossEntropyLoss from `criterion`',
    'optimizer SGD from `optimizer` (lr=0.001, momentum=0.9, weight_decay=0)',
  ]);
  assert.deepEqual(
    report.layers.map((l) => `${l.name}@${l.source?.line}`),
    ['conv1@11', 'relu@L19@19', 'pool@12', 'conv2@13', 'relu@L20@20', 'fc1@14', 'relu@L22@22', 'fc2@15', 'relu@L23@23', 'fc3@16'],
    'a module called twice (pool) is one layer; each F.relu in forward is a row of its own, on its line, where it runs',
  );
  assert.deepEqual(report.flags, []);
});

test('user errors exit 2 with file:line; a missing torch names how to fix it', async () => {
  let scriptErr = '';
  const syntax = await runCheckCommand([py('errors/syntax.py')]);
  assert.equal(syntax.code, 2);
  assert.match(syntax.stderr, /syntax\.py:\d: syntax error/);
  const threw = await runCheckCommand([py('errors/builder_throws.py')]);
  assert.equal(threw.code, 2);
  assert.match(threw.stderr, /builder_throws\.py:6: build_model\(\) raised: ValueError: width too large/);
  const noTorch = await runCheckCommand([py('resnet_block.py'), '--python', '/nonexistent/python3']);
  assert.equal(noTorch.code, 2);
  assert.match(noTorch.stderr, /\/nonexistent\/python3 \(not found\)/);
  assert.match(noTorch.stderr, /normscope\.pythonPath/);
  assert.match(noTorch.stderr, /--python/);
  const script = await runCommand([py('resnet_block.py')], WORKER, {
    stdout: { write: () => true },
    stderr: {
      write: (t: string) => {
        scriptErr += t;
        return true;
      },
    },
  });
  assert.equal(script, 2);
  assert.match(scriptErr, /resnet_block\.py ended without an optimizer step/);
});

test('interpreter choice: explicit only; else the Python extension, python3, then /usr/bin/python3', () => {
  assert.deepEqual(interpreterCandidates({ explicit: '/opt/py/bin/python' }), ['/opt/py/bin/python']);
  assert.deepEqual(interpreterCandidates({ pythonExtension: '/venv/bin/python' }), ['/venv/bin/python', 'python3', '/usr/bin/python3']);
  assert.deepEqual(interpreterCandidates({}), ['python3', '/usr/bin/python3']);
  assert.match(missingTorchMessage([{ path: 'python3', error: "No module named 'torch'" }]), /python3 \(No module named 'torch'\)/);
});

test('cancel stops the Python run at a step boundary with a report', async () => {
  const client = new PythonClient({ enginePath: pythonEnginePath(WORKER) });
  const abort = new AbortController();
  const events: RunEvent[] = [];
  try {
    const report = await client.run(
      { file: py('resnet_block.py'), steps: 10_000, backend: 'auto', seed: 1, samplingInterval: 1 },
      (e) => {
        events.push(e);
        if (e.type === 'progress') abort.abort();
      },
      abort.signal,
    );
    assert.equal(report.stoppedEarly, 'cancelled');
    assert.ok(report.steps < 10_000);
    assert.ok(events.some((e) => e.type === 'layers'));
  } finally {
    client.dispose();
  }
});

test('a norm to insert is named as PyTorch code writes it, from the layer output rank', () => {
  const layer = (outputShape: (number | null)[]) =>
    ({ index: 0, name: 'x', className: 'Conv2d', outputShape, paramCount: 1, isNorm: false }) as Parameters<typeof pytorchNormName>[1];
  assert.equal(pytorchNormName('batchNorm', layer([null, 16, 8, 8])), 'nn.BatchNorm2d');
  assert.equal(pytorchNormName('batchNorm', layer([null, 16])), 'nn.BatchNorm1d');
  assert.equal(pytorchNormName('instanceNorm', layer([null, 4, 8, 8, 8])), 'nn.InstanceNorm3d');
  assert.equal(pytorchNormName('layerNorm', layer([null, 32])), 'nn.LayerNorm');
  assert.equal(pytorchNormName('layerNorm', layer([null, 16, 8, 8])), 'nn.GroupNorm(1, 16) (LayerNorm over a feature map)');
});
