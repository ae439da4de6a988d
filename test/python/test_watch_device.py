"""The device path (python/normscope/measuring/torch_path.py), tested on the CPU: with NORMSCOPE_DEVICE_PATH=1 every
tensor is treated as if it lived on an accelerator, and with NORMSCOPE_NO_NATIVE=1 the fused C pass is off, so the
statistics are torch ops whose results stay 0-d tensors until the step buffer copies them to the host together. The
host reads a sampled step makes do not grow with the model's depth (one per step, never one per layer), and the
values are those computed directly from the layers' outputs."""

import os

os.environ['NORMSCOPE_DEVICE_PATH'] = '1'
os.environ['NORMSCOPE_NO_NATIVE'] = '1'

import math  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import unittest  # noqa: E402

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from watch_log import read_log, stat  # noqa: E402

from normscope.watching import watch  # noqa: E402

READS = ('item', 'tolist', '__float__', '__int__', '__bool__', 'cpu', 'numpy')


def deep(blocks):
    layers = []
    for _ in range(blocks):
        layers += [nn.Conv2d(4, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU()]
    return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), *layers, nn.Flatten(), nn.Linear(4 * 8 * 8, 2))


class Reads:
    """Counts the host reads of tensors (Tensor.item, .tolist, float(t), …) while on."""

    def __init__(self):
        self.count, self.saved = 0, {}

    def __enter__(self):
        for name in READS:
            original = self.saved[name] = getattr(torch.Tensor, name)
            setattr(torch.Tensor, name, self._counting(original))
        return self

    def _counting(self, original):
        def read(t, *args, **kwargs):
            self.count += 1
            return original(t, *args, **kwargs)

        return read

    def __exit__(self, *exc):
        for name, original in self.saved.items():
            setattr(torch.Tensor, name, original)


class DevicePathTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix='normscope-device-')

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def reads_per_step(self, blocks, steps=4):
        torch.manual_seed(0)
        model = deep(blocks)
        opt = torch.optim.SGD(model.parameters(), lr=0.01)
        x, y = torch.randn(8, 3, 8, 8), torch.randint(0, 2, (8,))
        folder = os.path.join(self.dir, f'deep{blocks}')
        watcher = watch(model, opt, directory=folder, project_root=self.dir)
        nn.functional.cross_entropy(model(x), y).backward()  # the first step builds the layer table
        opt.step()
        with Reads() as reads:
            for _ in range(steps):
                opt.zero_grad()
                nn.functional.cross_entropy(model(x), y).backward()
                opt.step()
        watcher.close()
        return reads.count / steps, folder

    def test_host_reads_do_not_grow_with_depth(self):
        shallow, _ = self.reads_per_step(2)
        deeper, _ = self.reads_per_step(8)
        self.assertEqual(shallow, deeper, f'{shallow} host reads a step with 7 rows, {deeper} with 25')
        self.assertLessEqual(deeper, 3)

    def test_values_are_the_direct_statistics(self):
        torch.manual_seed(0)
        model = deep(2)
        opt = torch.optim.SGD(model.parameters(), lr=0.01)
        outputs = {}
        for name, m in model.named_modules():
            if name in ('2', '3'):  # the first BatchNorm and its ReLU
                m.register_forward_hook(lambda m, i, o, name=name: outputs.__setitem__(name, o.detach().clone()))
        folder = os.path.join(self.dir, 'values')
        x, y = torch.randn(8, 3, 8, 8), torch.randint(0, 2, (8,))
        with watch(model, opt, directory=folder, project_root=self.dir):
            nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
        log = read_log(folder)
        sample = log['samples'][0]
        relu, bn = outputs['3'], outputs['2']

        def close(a, b, name):
            self.assertTrue(math.isclose(a, b, rel_tol=1e-5, abs_tol=1e-6), f'{name}: {a} vs {b}')

        close(stat(log, sample, 'model.3', 'mean'), relu.double().mean().item(), 'mean')
        close(stat(log, sample, 'model.3', 'variance'), relu.double().var(unbiased=False).item(), 'variance')
        close(stat(log, sample, 'model.3', 'max'), relu.max().item(), 'max')
        close(stat(log, sample, 'model.3', 'zeroFraction'), (relu == 0).double().mean().item(), 'zeroFraction')
        close(
            stat(log, sample, 'model.3', 'deadFraction'),
            (relu.amax(dim=(0, 2, 3)) <= 0).double().mean().item(),
            'deadFraction',
        )
        self.assertEqual(stat(log, sample, 'model.3', 'nonFinite'), 0)
        close(stat(log, sample, 'model.2', 'std'), bn.double().std(unbiased=False).item(), 'std')
        self.assertTrue(
            math.isfinite(stat(log, sample, 'model.2', 'movingMeanGap')), 'BatchNorm gaps computed on the device'
        )
        self.assertEqual(stat(log, sample, 'model.2', 'movingUpdates'), 1)


if __name__ == '__main__':
    unittest.main()
