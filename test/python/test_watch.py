"""normscope.watch in a user's own loop (python/normscope/watching): it never changes what the run computes,
and it follows what real loops do — gradient accumulation, LR schedulers, evaluation under no_grad, several models,
GradScaler's skipped steps, torch.compile's wrapper — with the layers' lines found for a model built before it."""

import math
import os
import shutil
import sys
import tempfile
import unittest
import warnings
from collections import defaultdict

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch.cuda.amp.grad_scaler import _refresh_per_optimizer_state  # noqa: E402
from watch_log import read_log, stat  # noqa: E402

from normscope.watching import watch  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(inplace=True))
        self.drop = nn.Dropout(0.2)
        self.head = nn.Linear(8 * 8 * 8, 4)

    def forward(self, x):
        return self.head(self.drop(self.features(x).flatten(1)))


def data(steps, batch=8, seed=1):
    g = torch.Generator().manual_seed(seed)
    return [
        (torch.randn(batch, 3, 8, 8, generator=g), torch.randint(0, 4, (batch,), generator=g)) for _ in range(steps)
    ]


def same_nan(values):
    return [None if math.isnan(v) else v for v in values]


def train(batches, watched=None, accumulate=1, evaluate=False, scheduler=False):
    """Losses and final parameters of a plain loop (the same seed each time); `watched(model, opt)` starts a watcher."""
    torch.manual_seed(0)
    model = Net()
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    sched = torch.optim.lr_scheduler.StepLR(opt, 3, 0.5) if scheduler else None
    watcher = watched(model, opt) if watched else None
    losses = []
    for k, (x, y) in enumerate(batches):
        loss = nn.functional.cross_entropy(model(x), y) / accumulate
        loss.backward()
        losses.append(loss.item())
        if (k + 1) % accumulate == 0:
            opt.step()
            opt.zero_grad()
            if sched:
                sched.step()
        if evaluate:
            model.eval()
            with torch.no_grad():
                model(batches[0][0])
            model.train()
    if watcher:
        watcher.close()
    return losses, [p.detach().clone() for p in model.parameters()], model, opt


class WatchTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix='normscope-watch-')
        self.runs = 0

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def watcher(self, **options):
        self.runs += 1
        folder = os.path.join(self.dir, f'run{self.runs}')
        return folder, lambda model, opt: watch(model, opt, directory=folder, project_root=HERE, **options)

    def test_bit_identical_losses_and_weights(self):
        batches = data(12)
        plain, plain_params, _, _ = train(batches)
        for every in (1, 3):
            folder, w = self.watcher(every=every)
            losses, params, model, _ = train(batches, w)
            self.assertEqual(losses, plain, f'every={every}')
            for a, b in zip(params, plain_params):
                self.assertTrue(torch.equal(a, b))
            log = read_log(folder)
            self.assertEqual([s['step'] for s in log['samples']], list(range(0, 12, every)))
            self.assertEqual(len(log['losses']), 12)
            for step, loss in enumerate(plain):  # float32 in the log
                self.assertAlmostEqual(log['losses'][step], loss, places=5)
            self.assertEqual(log['records']('end')[0]['reason'], 'closed')
            self.assertTrue(model.features[2].inplace, 'close() gave the ReLU its inplace back')

    def test_a_closed_watcher_is_freed_without_the_garbage_collector(self):
        # A watcher kept alive by a reference cycle dies at interpreter exit, and with it a DDP run's gloo group:
        # torn down then, gloo aborts the process ("terminate called without an active exception").
        import gc
        import weakref

        _, start = self.watcher()
        refs = []

        def watched(model, opt):
            refs.append(weakref.ref(start(model, opt)))
            return refs[0]()

        gc.disable()
        try:
            _, _, _, opt = train(data(2), watched)
            self.assertIsNone(refs[0](), 'the closed watcher outlived its last reference')
        finally:
            gc.enable()
        self.assertNotIn('step', opt.__dict__, "close() gave the optimizer its class's step back")

    def test_lines_of_a_model_built_before_watch(self):
        folder, w = self.watcher()
        train(data(2), w)
        log = read_log(folder)
        with open(__file__) as f:
            lines = f.read().split('\n')
        where = {info['name']: info['source'] for info in log['layers']}
        conv = next(k for k, line in enumerate(lines) if 'self.features = nn.Sequential(' in line) + 1
        self.assertEqual(
            where['features.0'],
            {'file': 'test_watch.py', 'line': conv, 'column': lines[conv - 1].index('nn.Conv2d') + 1},
        )
        self.assertEqual(where['features.2']['column'], lines[conv - 1].index('nn.ReLU') + 1)
        head = next(k for k, line in enumerate(lines) if 'self.head = nn.Linear' in line) + 1
        self.assertEqual(
            where['head'], {'file': 'test_watch.py', 'line': head, 'column': lines[head - 1].index('nn.Linear') + 1}
        )
        self.assertEqual([i['name'] for i in log['layers']], ['features.0', 'features.1', 'features.2', 'drop', 'head'])

    def test_gradient_accumulation_is_one_sample_per_optimizer_step(self):
        batches = data(12)
        plain, _, _, _ = train(batches, accumulate=4)
        folder, w = self.watcher()
        losses, _, _, _ = train(batches, w, accumulate=4)
        self.assertEqual(losses, plain)
        log = read_log(folder)
        self.assertEqual([s['step'] for s in log['samples']], [0, 1, 2])
        for step in range(3):  # the mean of the micro-batches' losses backward() was called on
            self.assertAlmostEqual(log['losses'][step], sum(plain[4 * step : 4 * step + 4]) / 4, places=5)

    def test_scheduler_and_evaluation_in_between(self):
        batches = data(9)
        with warnings.catch_warnings():
            warnings.simplefilter('error')  # "lr_scheduler.step() before optimizer.step()" would be an error
            plain, _, _, _ = train(batches, scheduler=True)
            folder, w = self.watcher()
            losses, _, _, opt = train(batches, w, scheduler=True, evaluate=True)
        self.assertEqual(
            losses, plain, 'no_grad evaluation in between changes nothing, also not the BatchNorm statistics'
        )
        self.assertEqual(opt.param_groups[0]['lr'], 0.05 * 0.5**3)
        self.assertNotIn('Watcher', opt.step.__qualname__, 'close() put back the step the scheduler had wrapped')
        self.assertTrue(opt.step._with_counter)
        quiet, w2 = self.watcher()
        train(batches, w2, scheduler=True)
        a, b = read_log(folder), read_log(quiet)
        for sa, sb in zip(
            a['samples'], b['samples']
        ):  # the evaluation forwards (batch 0 in eval mode) are not measured
            self.assertEqual(same_nan(sa['values']), same_nan(sb['values']))

    def test_watch_then_scheduler_wraps_the_watcher(self):
        torch.manual_seed(0)
        model = Net()
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        folder, w = self.watcher()
        watcher = w(model, opt)
        sched = torch.optim.lr_scheduler.StepLR(opt, 1, 0.5)
        for x, y in data(3):
            nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
            sched.step()
        watcher.close()
        self.assertEqual(opt._step_count, 3)
        self.assertEqual(len(read_log(folder)['samples']), 3)

    def test_two_models_two_optimizers(self):
        torch.manual_seed(0)
        netG, netD = (
            nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 8)),
            nn.Sequential(nn.Linear(8, 16), nn.LeakyReLU(0.2), nn.Linear(16, 1)),
        )
        optG, optD = torch.optim.Adam(netG.parameters(), 1e-3), torch.optim.Adam(netD.parameters(), 1e-3)
        folder, w = self.watcher()
        with w([netG, netD], [optG, optD]):
            for _ in range(4):
                real, z = torch.randn(8, 8), torch.randn(8, 4)
                optD.zero_grad()
                d_loss = netD(real).mean() - netD(netG(z).detach()).mean()
                d_loss.backward()
                optD.step()
                optG.zero_grad()
                g_loss = -netD(netG(z)).mean()
                g_loss.backward()
                optG.step()
        log = read_log(folder)
        self.assertEqual(
            sorted(i['name'] for i in log['layers']),
            sorted(f'{net}/model.{k}' for net in ('netG', 'netD') for k in range(3)),
        )
        self.assertEqual(len(log['samples']), 8, 'every step of either optimizer is a step')
        d_step, g_step = log['samples'][2], log['samples'][3]
        self.assertTrue(
            math.isnan(stat(log, d_step, 'netG/model.0', 'weightNorm')), "D's step does not measure G's weights"
        )
        self.assertFalse(math.isnan(stat(log, g_step, 'netG/model.0', 'weightNorm')))

    def test_compiled_module_is_measured_through_its_original(self):
        class Compiled(nn.Module):  # what torch.compile returns (torch 2.x OptimizedModule): the original as _orig_mod
            def __init__(self, inner):
                super().__init__()
                self._orig_mod = inner

            def forward(self, x):
                return self._orig_mod(x)

        torch.manual_seed(0)
        model = Net()
        opt = torch.optim.SGD(model.parameters(), lr=0.05)
        folder, w = self.watcher()
        with w(Compiled(model), opt):
            for x, y in data(2):
                nn.functional.cross_entropy(model(x), y).backward()
                opt.step()
        log = read_log(folder)
        self.assertEqual(len(log['layers']), 5)
        self.assertIn("torch.compile'd", log['run']['notes'][0])

    def test_grad_scaler_skipped_steps_and_unscaled_statistics(self):
        batches = data(6)
        # the reference: no scaler; step 3's gradients made non-finite by hand would be skipped by a scaler
        folder_plain, w_plain = self.watcher()
        plain, _, _, _ = train(batches, w_plain)
        torch.manual_seed(0)
        model = Net()
        opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        scaler = CpuScaler(init_scale=1024.0)
        folder, w = self.watcher()
        with w(model, opt):
            for k, (x, y) in enumerate(batches):
                loss = nn.functional.cross_entropy(model(x), y)
                scaler.scale(loss).backward()
                if k == 3:
                    model.head.bias.grad[0] = math.inf
                scaler.step(opt)
                scaler.update()
                opt.zero_grad()
        log, ref = read_log(folder), read_log(folder_plain)
        self.assertEqual([r['step'] for r in log['records']('skipped')], [3])
        self.assertEqual([s['step'] for s in log['samples']], [0, 1, 2, 4, 5])
        for step in (0, 1, 2):  # the same run up to the skip: the scale divided out
            self.assertAlmostEqual(log['losses'][step], plain[step], places=5)
            mine, theirs = log['samples'][step], ref['samples'][step]
            for name in ('activationGradNorm', 'gradNorm'):
                a, b = stat(log, mine, 'head', name), stat(ref, theirs, 'head', name)
                self.assertAlmostEqual(a / b, 1.0, places=4, msg=name)


class ExitTest(unittest.TestCase):
    def test_a_process_that_exits_without_close_writes_every_loss(self):
        import subprocess

        with tempfile.TemporaryDirectory() as folder:
            code = (
                'import torch, torch.nn as nn; from normscope.watching import watch\n'
                'm = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))\n'
                'o = torch.optim.SGD(m.parameters(), 0.01)\n'
                f'w = watch(m, o, every=10, directory={os.path.join(folder, "run")!r}, project_root={folder!r})\n'
                'for _ in range(25):\n    o.zero_grad(); m(torch.randn(4, 4)).pow(2).mean().backward(); o.step()\n'
            )
            subprocess.run(
                [sys.executable, '-c', code], check=True, env={**os.environ, 'PYTHONPATH': os.pathsep.join(sys.path)}
            )
            log = read_log(os.path.join(folder, 'run'))
            self.assertEqual(sorted(log['losses']), list(range(25)), 'steps 21-24 came after the last sample')
            self.assertEqual(log['records']('end')[0]['reason'], 'exit')


class CpuScaler(torch.cuda.amp.GradScaler):
    """GradScaler's own step/skip logic on the CPU (torch 1.13's unscale and update kernels are CUDA-only)."""

    def __init__(self, init_scale):
        super().__init__(init_scale=init_scale, enabled=False)
        self._enabled = True
        self._per_optimizer_states = defaultdict(_refresh_per_optimizer_state)
        self._scale, self._growth_tracker = torch.full((1,), init_scale), torch.zeros(1, dtype=torch.int32)

    def scale(self, outputs):
        return outputs * self._scale

    def _unscale_grads_(self, optimizer, inv_scale, found_inf, allow_fp16):
        for group in optimizer.param_groups:
            for p in group['params']:
                if p.grad is not None:
                    p.grad.mul_(inv_scale)
                    found_inf += (~torch.isfinite(p.grad)).any().float()
        return {found_inf.device: found_inf}

    def update(self, new_scale=None):
        found = sum(
            v.item() for state in self._per_optimizer_states.values() for v in state['found_inf_per_device'].values()
        )
        if found:
            self._scale.mul_(0.5)
        self._per_optimizer_states.clear()


if __name__ == '__main__':
    unittest.main()
