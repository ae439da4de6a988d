"""The engine picks torch code paths by feature, not version (python/normscope/measuring/features.py). The torch here is
1.13, so the 2.x branches are exercised by monkeypatching the attribute that 2.x has (run by
test/unit/pytorch-features.test.ts: `python3 -m unittest discover -s test/python`, PYTHONPATH=python)."""

import copy
import os
import unittest
from unittest import mock

import torch
import torch.nn as nn
import torch.nn.utils.parametrize as parametrize

from normscope.engine.run import train_step
from normscope.measuring import features
from normscope.measuring.layer_table import layer_infos
from normscope.measuring.layers import measured_modules
from normscope.measuring.meter import STAT_NAMES, Meter
from normscope.refactor.swap import swap

FIXTURES = os.path.join(os.path.dirname(__file__), '..', 'fixtures', 'pytorch')


def fixture(name):
    with open(os.path.join(FIXTURES, name), encoding='utf-8') as f:
        return f.read()


class FakeRMSNorm(nn.Module):
    """Stands in for torch 2.4's nn.RMSNorm."""

    def __init__(self, dim, eps=None):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return x * self.weight


class Scale(nn.Module):
    """A parametrization, as torch 2.x's weight_norm registers one (its module becomes ParametrizedLinear)."""

    def forward(self, w):
        return 2 * w


class Same(nn.Module):
    """A parametrization that leaves the weight as it is: the layer trains exactly like the plain one."""

    def forward(self, w):
        return w


def fake_parametrized_weight_norm(module, name='weight', dim=0):
    parametrize.register_parametrization(module, name, Scale())
    return module


class RMSNormBranch(unittest.TestCase):
    def test_this_torch_lacks_rmsnorm_so_a_module_is_emitted(self):
        if hasattr(nn, 'RMSNorm'):
            self.skipTest('this torch has nn.RMSNorm')
        self.assertFalse(features.has_rmsnorm())
        text, description = swap(fixture('bn_batch2.py'), 13, 'rmsNorm')
        self.assertIn('self.bn = RMSNorm(hidden)', text)
        self.assertIn('class RMSNorm(nn.Module):', text)
        self.assertIn('RMSNorm module added', description)

    def test_with_nn_rmsnorm_present_the_swap_uses_it(self):
        with mock.patch.object(nn, 'RMSNorm', FakeRMSNorm, create=True):
            self.assertIs(features.rmsnorm_class(), FakeRMSNorm)
            text, _ = swap(fixture('bn_batch2.py'), 13, 'rmsNorm')
        self.assertIn('self.bn = nn.RMSNorm(hidden)', text)
        self.assertNotIn('class RMSNorm', text)


class WeightNormBranch(unittest.TestCase):
    def test_without_parametrizations_weight_norm_the_legacy_api_is_emitted_and_said(self):
        with mock.patch.object(nn.utils.parametrizations, 'weight_norm', None, create=True):
            self.assertEqual(features.weight_norm_api()[0], 'legacy')
            text, _ = swap(fixture('bn_batch2.py'), 13, 'weightNorm')
        self.assertIn(
            'self.proj = nn.utils.weight_norm(nn.Linear(features, hidden))  # this torch has no '
            'nn.utils.parametrizations',
            text,
        )

    def test_with_parametrizations_weight_norm_present_it_is_emitted(self):
        with mock.patch.object(nn.utils.parametrizations, 'weight_norm', fake_parametrized_weight_norm, create=True):
            self.assertEqual(features.weight_norm_api()[0], 'parametrizations')
            text, _ = swap(fixture('bn_batch2.py'), 13, 'weightNorm')
        self.assertIn('self.proj = nn.utils.parametrizations.weight_norm(nn.Linear(features, hidden))\n', text)

    def test_a_parametrized_layer_is_measured_as_one_layer_with_its_own_class_name(self):
        model = nn.Sequential(fake_parametrized_weight_norm(nn.Linear(4, 3)), nn.ReLU(), nn.Linear(3, 1))
        self.assertTrue(features.is_parametrized(model[0]))
        self.assertEqual(type(model[0]).__name__, 'ParametrizedLinear')
        leaves = measured_modules(model)
        self.assertEqual([name for name, _ in leaves], ['model.0', 'model.1', 'model.2'])
        meter = Meter(leaves)
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        loss, values = train_step(
            model, opt, lambda out, y: ((out - y) ** 2).mean(), torch.randn(8, 4), torch.randn(8, 1), meter
        )
        infos = layer_infos(meter)
        self.assertEqual(infos[0]['className'], 'Linear')
        self.assertEqual(infos[0]['paramCount'], 15, 'the original weight (under parametrizations) and the bias')
        self.assertEqual(len(values), 3 * len(STAT_NAMES))
        self.assertGreater(loss, 0)

    def test_a_parametrized_weight_counts_in_the_weight_statistics(self):
        """torch 2.x weight_norm keeps the weight in parametrizations.weight.original0/1: the layer's weight norm and
        update ratio must count it, as they count a plain Linear's weight."""
        torch.manual_seed(0)
        plain = nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 1))
        wrapped = copy.deepcopy(plain)
        parametrize.register_parametrization(wrapped[0], 'weight', Same())
        self.assertEqual([n for n, _ in wrapped[0].named_parameters()], ['bias', 'parametrizations.weight.original'])
        x, y = torch.randn(8, 4), torch.randn(8, 1)
        rows = []
        for model in (plain, wrapped):
            meter = Meter(measured_modules(model))
            opt = torch.optim.SGD(model.parameters(), lr=0.1)
            _, values = train_step(model, opt, lambda out, t: ((out - t) ** 2).mean(), x, y, meter)
            rows.append(
                {s: values[STAT_NAMES.index(s)] for s in ('weightNorm', 'gradNorm', 'updateNorm', 'updateRatio')}
            )
        for stat, value in rows[1].items():
            self.assertGreater(value, 0, stat)
            self.assertAlmostEqual(value, rows[0][stat], places=5, msg=stat)


if __name__ == '__main__':
    unittest.main()
