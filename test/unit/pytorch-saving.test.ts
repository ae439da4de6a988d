// `torch.save(model)` inside a measured training script (python/normscope/measuring/pickling.py), end to end: the model
// is saved without NormScope's hooks (the meter's and the script run's batch pre-hooks), loads where NormScope is not
// installed, and stays measured after the save.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { RunReport } from '../../src/protocol';
import { runCommand } from '../../src/cli/run';
import { resolvePython } from '../../src/runner/pythonInterpreter';
import { capturingIO } from './capture';
import { WORKER } from './engine-fixtures';

const SCRIPT = [path.resolve(__dirname, '../../../test/fixtures/pytorch'), path.resolve('test/fixtures/pytorch')]
  .map((dir) => path.join(dir, 'save_model_script.py'))
  .find((p) => fs.existsSync(p))!;

test('a script that saves the whole model mid-training runs on, measured, and its saved model carries no hooks', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'normscope-save-'));
  try {
    const saved = path.join(dir, 'model.pt');
    const { io, printed } = capturingIO();
    const code = await runCommand([SCRIPT, '--steps', 'all', '--json', '--', '--save', saved], WORKER, io);
    assert.equal(code, 0, printed.stderr);
    const report = JSON.parse(printed.stdout) as RunReport;
    assert.equal(report.steps, 11, 'every step after the first (which finds the model) is measured, saves included');
    for (const layer of report.layers)
      assert.ok(
        layer.stats.mean!.every((v) => typeof v === 'number'),
        `${layer.name} is measured before and after each save`,
      );
    // Loaded by a Python that has no normscope package to import: hooks pickled with it would fail here.
    const python = (await resolvePython({})).path;
    const load =
      'import sys, torch; m = torch.load(sys.argv[1]); print(sum(len(x._forward_hooks) + len(x._forward_pre_hooks) for x in m.modules()), m(torch.ones(2, 8)).shape[0])';
    const env = { ...process.env, PYTHONPATH: '' };
    assert.equal(execFileSync(python, ['-c', load, saved], { env, encoding: 'utf8' }).trim(), '0 2');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
