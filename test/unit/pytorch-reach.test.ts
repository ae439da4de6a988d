// Lines and reach of the PyTorch engine on public projects' own files (test/fixtures/pytorch/public, see its NOTICE):
// layers built by the project's package map to that package's lines (minGPT), `--input-shape` and Python `--args`
// reach models that need them, the model and its input are read off the file's classes and forward, and every error
// of the first forward names the user's file:line and the shape tried.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { RunReportJson } from '../../src/protocol';
import { runCommand } from '../../src/cli/run';
import { modelChoiceFlags, parseInputShape } from '../../src/cli/builderArgs';
import { UsageError } from '../../src/cli/args';
import { capturingIO } from './capture';
import { runCheckCommand, WORKER } from './engine-fixtures';

const PY_FIXTURES = [path.resolve(__dirname, '../../../test/fixtures/pytorch'), path.resolve('test/fixtures/pytorch')].find((p) =>
  fs.existsSync(p),
)!;
const MINGPT = path.join(PY_FIXTURES, 'public/minGPT');
const EXAMPLES = path.join(PY_FIXTURES, 'public/pytorch-examples');
const WORD_LM = path.join(EXAMPLES, 'word_language_model/model.py');
const MNIST = path.join(EXAMPLES, 'mnist/main.py');

/** The 1-based line of the first line of `file` containing `text`. */
function lineOf(file: string, text: string): number {
  const index = fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .findIndex((l) => l.includes(text));
  assert.ok(index >= 0, `${text} not in ${file}`);
  return index + 1;
}

async function checkJson(...argv: string[]): Promise<RunReportJson> {
  const { code, stdout, stderr } = await runCheckCommand([...argv, '--json']);
  assert.equal(code, 0, stderr);
  return JSON.parse(stdout) as RunReportJson;
}

/** Every message names a line or none: never `file.py:None:` (Python's None) or `:undefined`. */
function assertNoMissingLine(text: string): void {
  assert.doesNotMatch(text, /:None\b|:undefined\b|:null\b/);
}

const GPT_CONFIG =
  'CN(model_type="gpt-nano", n_layer=None, n_head=None, n_embd=None, vocab_size=65, block_size=32, embd_pdrop=0.1, resid_pdrop=0.1, attn_pdrop=0.1)';

test("minGPT: a script two levels down checks the project's GPT; its layers map into mingpt/model.py, not the script", async () => {
  const script = path.join(MINGPT, 'projects/chargpt/chargpt.py');
  const model = path.join(MINGPT, 'mingpt/model.py');
  const report = await checkJson(script, '--steps', '2', '--model', 'GPT', '--args', GPT_CONFIG);
  const at = (name: string) => report.layers.find((l) => l.name === name)?.source;
  assert.deepEqual(at('transformer.wte'), { file: model, line: lineOf(model, 'wte = nn.Embedding('), column: 19 });
  assert.equal(at('transformer.h.0.ln_1')?.line, lineOf(model, 'self.ln_1 = nn.LayerNorm('));
  assert.equal(at('transformer.h.2.attn.c_attn')?.line, lineOf(model, 'self.c_attn = nn.Linear('));
  assert.equal(at('lm_head')?.line, lineOf(model, 'self.lm_head = nn.Linear('));
  assert.ok(
    report.layers.every((l) => l.source?.file === model),
    'no layer lands on the script',
  );
  assert.ok(report.backendNotes.some((n) => /token input of shape \(16,\) from Embedding\(65, \.\.\.\) at `transformer\.wte`/.test(n)));
});

test('minGPT: without --model the script names the model it imports; a missing config names the file and line of GPT', async () => {
  const script = path.join(MINGPT, 'projects/chargpt/chargpt.py');
  const none = await runCheckCommand([script]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /chargpt\.py defines no torch\.nn\.Module.*It imports GPT: check one with --model GPT/);
  const bare = await runCheckCommand([script, '--model', 'GPT']);
  assert.equal(bare.code, 2);
  assert.match(
    bare.stderr,
    new RegExp(`mingpt/model\\.py:${lineOf(path.join(MINGPT, 'mingpt/model.py'), 'class GPT(')}: GPT needs arguments`),
  );
  assertNoMissingLine(none.stderr + bare.stderr);
});

async function runScript(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const { io, printed } = capturingIO();
  const code = await runCommand(argv, WORKER, io);
  return { code, ...printed };
}

test("minGPT's adder script trains the project's GPT: layers in mingpt/model.py; a literal_eval of its argument fails at that line", async () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'normscope-mingpt-'));
  const script = path.join(MINGPT, 'projects/adder/adder.py');
  const model = path.join(MINGPT, 'mingpt/model.py');
  try {
    // minGPT reads `--key=value` with ast.literal_eval: a path must be quoted as a Python string.
    const args = ['--trainer.num_workers=0', '--data.ndigit=1', `--system.work_dir='${work}'`];
    const { code, stdout, stderr } = await runScript([script, '--steps', '2', '--json', '--', ...args]);
    assert.equal(code, 0, stderr);
    const report = JSON.parse(stdout) as RunReportJson;
    assert.equal(report.layers.find((l) => l.name === 'transformer.h.0.mlp.c_fc')?.source?.line, lineOf(model, 'c_fc    = nn.Linear('));
    assert.ok(report.layers.every((l) => l.source?.file === model));
    // Unquoted, literal_eval raises SyntaxError: an exception of mingpt/utils.py's line, not a syntax error of adder.py.
    const failed = await runScript([script, '--steps', '2', '--', '--trainer.num_workers=0', `--system.work_dir=${work}`]);
    assert.equal(failed.code, 2);
    const utils = path.join(MINGPT, 'mingpt/utils.py');
    assert.match(
      failed.stderr,
      new RegExp(`mingpt/utils\\.py:${lineOf(utils, 'val = literal_eval(val)')}: the training script raised: SyntaxError`),
    );
    assert.doesNotMatch(failed.stderr, /syntax error/);
    assertNoMissingLine(failed.stderr);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
});

test('a SyntaxError of code the file evaluates at import is an error of that line, not a syntax error of the file', async () => {
  const file = path.join(PY_FIXTURES, 'errors/eval_at_import.py');
  const { code, stderr } = await runCheckCommand([file]);
  assert.equal(code, 2);
  assert.match(
    stderr,
    new RegExp(`eval_at_import\\.py:${lineOf(file, 'config = ast.literal_eval(')}: importing the file raised: SyntaxError`),
  );
  assert.doesNotMatch(stderr, /syntax error/);
  assertNoMissingLine(stderr);
});

test("mnist's Net: the first forward at 32×32 fails with main.py's line and the shape tried; --input-shape '[1, 28, 28]' runs it", async () => {
  const failed = await runCheckCommand([MNIST, '--steps', '2']);
  assert.equal(failed.code, 2);
  assert.match(
    failed.stderr,
    new RegExp(`main\\.py:${lineOf(MNIST, 'x = self.fc1(x)')}: the first forward, on synthesised input of shape \\(32, 1, 32, 32\\)`),
  );
  assert.match(failed.stderr, /mat1 and mat2 shapes cannot be multiplied.*--input-shape '\[C, H, W\]'/);
  assert.doesNotMatch(failed.stderr, /stopped unexpectedly|Traceback/);
  const report = await checkJson(MNIST, '--steps', '2', '--input-shape', '[1, 28, 28]');
  assert.deepEqual(
    report.layers.map((l) => `${l.name}@${l.source?.line}`),
    // Net.forward's F.relu calls are rows of their own, on their lines (functional activations).
    ['conv1@13', 'relu@L22@22', 'conv2@14', 'relu@L24@24', 'dropout1@15', 'fc1@17', 'relu@L29@29', 'dropout2@16', 'fc2@18'],
  );
  assert.ok(report.backendNotes.includes('input of shape (1, 28, 28) from --input-shape'));
});

test("word_language_model's TransformerModel: Python --args (and the JSON form), tokens for the Embedding forward applies first", async () => {
  for (const args of ['100, 32, nhead=2, nhid=64, nlayers=2', '[100, 32, 2, 64, 2]']) {
    const report = await checkJson(WORD_LM, '--steps', '2', '--model', 'TransformerModel', '--args', args);
    assert.ok(
      report.backendNotes.some((n) => /token input of shape \(16,\) from Embedding\(100, \.\.\.\) at `input_emb`/.test(n)),
      report.backendNotes.join('\n'),
    );
    const layers = Object.fromEntries(report.layers.map((l) => [l.name, l.source?.line]));
    assert.equal(layers.input_emb, lineOf(WORD_LM, 'self.input_emb = nn.Embedding('));
    // The encoder's layers are built by nn.Transformer inside the class's super().__init__ call.
    assert.equal(layers['encoder.layers.1.norm2'], lineOf(WORD_LM, 'super(TransformerModel, self).__init__('));
  }
  const bad = await runCheckCommand([WORD_LM, '--model', 'TransformerModel', '--args', '100, 32 nhead=2']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--args '100, 32 nhead=2' is not a Python argument list/);
});

test('word_language_model: several root classes are listed with lines and parameters; RNNModel.forward(input, hidden) says how to give data', async () => {
  const ambiguous = await runCheckCommand([WORD_LM]);
  assert.equal(ambiguous.code, 2);
  assert.match(
    ambiguous.stderr,
    new RegExp(
      `RNNModel\\(rnn_type, ntoken, ninp, nhid, nlayers, dropout=0\\.5, tie_weights=False\\) \\(line ${lineOf(WORD_LM, 'class RNNModel(')}\\); ` +
        `TransformerModel\\(ntoken, ninp, nhead, nhid, nlayers, dropout=0\\.5\\) \\(line ${lineOf(WORD_LM, 'class TransformerModel(')}\\)`,
    ),
  );
  assert.match(ambiguous.stderr, /--model NAME/);
  const rnn = await runCheckCommand([WORD_LM, '--model', 'RNNModel', '--args', '"LSTM", 100, 32, 32, 2']);
  assert.equal(rnn.code, 2);
  assert.match(
    rnn.stderr,
    new RegExp(`model\\.py:${lineOf(WORD_LM, 'def forward(self, input, hidden)')}: RNNModel\\.forward takes 2 inputs \\(input, hidden\\)`),
  );
  assert.match(rnn.stderr, /normscope = \{"data": /);
  assertNoMissingLine(ambiguous.stderr + rnn.stderr);
});

test("fast_neural_style's transformer_net.py: the model is TransformerNet, the class no other class uses, not the last one", async () => {
  const file = path.join(EXAMPLES, 'fast_neural_style/neural_style/transformer_net.py');
  const report = await checkJson(file, '--steps', '1', '--batch-size', '2');
  assert.ok(report.backendNotes.some((n) => /model TransformerNet\(\)/.test(n)));
  assert.ok(report.layers.some((l) => l.name === 'deconv1.conv2d'));
});

test('--input-shape is parsed as positive integers, only for .py files; --args on a .py file goes to the engine as written', () => {
  assert.deepEqual(parseInputShape('[1, 28, 28]'), [1, 28, 28]);
  assert.deepEqual(parseInputShape('3,32,32'), [3, 32, 32]);
  for (const bad of ['[]', '[1, 0]', '[1.5]', 'a,b', '[-1, 2]']) assert.throws(() => parseInputShape(bad), UsageError, bad);
  assert.throws(() => modelChoiceFlags('/m/model.js', { 'input-shape': '[4]' }), /applies to PyTorch/);
  assert.deepEqual(modelChoiceFlags('/m/model.py', { model: 'GPT', args: 'GPTConfig(n_layer=2)', 'input-shape': '[8]' }), {
    model: 'GPT',
    pythonArgs: 'GPTConfig(n_layer=2)',
    inputShape: [8],
  });
  assert.deepEqual(modelChoiceFlags('/m/model.js', { args: '[[28, 28, 1], 10]' }), { args: [[28, 28, 1], 10] });
});
