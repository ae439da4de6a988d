// `normscope run train.py`: a PyTorch training script runs with its argv and cwd on its own DataLoader data; its
// optimizer steps are measured and it is stopped after --steps (python/normscope/engine/script.py).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { RunReport, RunReportJson } from '../../src/protocol';
import { runCommand } from '../../src/cli/run';
import { WORKER } from './engine-fixtures';

const PY_FIXTURES = [path.resolve(__dirname, '../../../test/fixtures/pytorch'), path.resolve('test/fixtures/pytorch')].find((p) =>
  fs.existsSync(p),
)!;
const SCRIPT = path.join(PY_FIXTURES, 'train_script.py');

async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCommand(argv, WORKER, {
    stdout: { write: (t: string) => ((stdout += t), true) },
    stderr: { write: (t: string) => ((stderr += t), true) },
  });
  return { code, stdout, stderr };
}

test('the script trains on its own data with its arguments; measuring stops it after --steps', async () => {
  const { code, stdout, stderr } = await run([SCRIPT, '--steps', '6', '--json', '--', '--batch-size', '16', '--hidden', '24']);
  assert.equal(code, 0, stderr);
  const report = JSON.parse(stdout) as RunReport;
  assert.equal(report.steps, 6);
  assert.equal(report.loss.length, 6);
  assert.ok(report.loss.every((l) => typeof l === 'number' && l > 0 && l < 5));
  assert.equal(report.batchSize, 16, "the DataLoader's batch size, from --batch-size");
  assert.equal(report.syntheticData, false);
  const layers = Object.fromEntries(report.layers.map((l) => [l.name, `${l.className}@${l.source?.line}`]));
  assert.deepEqual(layers, { fc1: 'Linear@13', bn: 'BatchNorm1d@14', relu: 'ReLU@15', fc2: 'Linear@16' });
  assert.deepEqual(report.layers[0].sampledSteps, [0, 1, 2, 3, 4, 5]);
  assert.ok(report.layers.find((l) => l.name === 'fc1')!.stats.gradNorm!.every((g) => typeof g === 'number' && g > 0));
  assert.ok(report.backendNotes.some((n) => /training script train_script\.py, model Net trained by SGD/.test(n)));
  assert.equal(report.stoppedEarly, undefined);
});

test('--steps all runs the script to its end in the caller’s working directory', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'normscope-pyscript-'));
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    const { code, stdout, stderr } = await run([
      SCRIPT,
      '--steps',
      'all',
      '--json',
      '--',
      '--epochs',
      '1',
      '--batch-size',
      '32',
      '--save',
      'w.pt',
    ]);
    assert.equal(code, 0, stderr);
    // 128 examples / 32 = 4 optimizer steps; the first finds the model and installs the hooks.
    assert.equal((JSON.parse(stdout) as RunReport).steps, 3);
    assert.ok(fs.existsSync(path.join(dir, 'w.pt')), 'saved relative to the working directory');
  } finally {
    process.chdir(cwd);
  }
});

test('a script that exits early says so, with its own message', async () => {
  const bad = await run([SCRIPT, '--', '--epochs', 'x']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /train_script\.py exited with code 2 before training finished \(its arguments: --epochs x\)/);
  assert.match(bad.stderr, /argument --epochs: invalid int value: 'x'/);
});

test('a GAN (opt_g, opt_d): both networks are measured, each step the weights of the one it trains', async () => {
  const gan = path.join(PY_FIXTURES, 'gan_script.py');
  const { code, stdout, stderr } = await run([gan, '--steps', '12', '--json', '--', '--epochs', '50']);
  assert.equal(code, 0, stderr);
  const report = JSON.parse(stdout) as RunReportJson;
  assert.equal(report.steps, 12, 'every step of either optimizer is a step');
  const source = fs.readFileSync(gan, 'utf8').split('\n');
  const lineOf = (text: string) => source.findIndex((l) => l.includes(text)) + 1;
  assert.deepEqual(
    report.layers.map((l) => `${l.name} ${l.className}@${l.source?.line}`),
    [
      `netG/net.0 Linear@${lineOf('nn.Linear(latent, hidden)')}`,
      `netG/net.1 BatchNorm1d@${lineOf('nn.BatchNorm1d(hidden)')}`,
      `netG/net.2 ReLU@${lineOf('nn.ReLU()')}`,
      `netG/net.3 Linear@${lineOf('nn.Linear(hidden, 2)')}`,
      `netD/net.0 Linear@${lineOf('nn.Linear(2, hidden)')}`,
      `netD/net.1 LeakyReLU@${lineOf('nn.LeakyReLU(0.2)')}`,
      `netD/net.2 Linear@${lineOf('nn.Linear(hidden, 1)')}`,
    ],
  );
  for (const layer of report.layers) assert.equal(layer.source?.file, gan);
  const [g, d] = [report.layers[0], report.layers[4]];
  // The loop steps opt_d, then opt_g: even samples train the discriminator, odd ones the generator.
  const trained = (l: typeof g) => l.stats.gradNorm!.map((v) => typeof v === 'number' && v > 0);
  const odd = report.layers[0].sampledSteps.map((s) => s % 2 === 1);
  assert.deepEqual(trained(g), odd);
  assert.deepEqual(
    trained(d),
    odd.map((o) => !o),
  );
  assert.deepEqual(
    d.stats.weightNorm!.map((v) => v === null),
    odd,
    'a step that does not train a model leaves its weights unmeasured',
  );
  // Activations: the generator runs (fake = netG(z)) before the discriminator's step, the discriminator in both.
  assert.ok(g.stats.mean!.some((v) => typeof v === 'number'));
  assert.ok(d.stats.mean!.every((v) => typeof v === 'number'));
  assert.ok(
    report.layers[1].stats.gammaMean!.some((v) => typeof v === 'number'),
    'γ of the generator BatchNorm',
  );
  assert.deepEqual(
    report.flags.filter((f) => f.kind === 'non-finite'),
    [],
    'not measured is not NaN',
  );
  assert.ok(report.backendNotes.some((n) => /models netG \(Generator\) trained by Adam, netD \(Discriminator\) trained by Adam/.test(n)));
});
