"""The Python run-log writer (python/normscope/runlog/writer.py, policy.py) on its own: the forms a step's
values come in, how a log ends, a disk error that must not stop training, the two event paths, the protection windows.
Run by test/unit/runlog-python.test.ts (`python3 -m unittest discover -s test/python -p test_runlog.py`,
PYTHONPATH=python);
the round trip to the TypeScript reader and the byte-for-byte match with the TypeScript writer are tested there."""

import array
import json
import math
import os
import random
import struct
import subprocess
import sys
import tempfile
import unittest
import warnings

import numpy
import torch

from normscope.measuring.stats_math import STAT_NAMES
from normscope.runlog.policy import AFTER, BEFORE, START_SAMPLES, Events, Retention
from normscope.runlog.writer import RunLogWriter, _floats

W = len(STAT_NAMES)
LAYER = {
    'index': 0,
    'name': 'fc',
    'className': 'Linear',
    'outputShape': [None, 4],
    'paramCount': 20,
    'isNorm': False,
    'source': None,
}


def meta(directory):
    with open(os.path.join(directory, 'meta.jsonl'), encoding='utf-8') as f:
        return [json.loads(line) for line in f]


class ValueForms(unittest.TestCase):
    def test_every_form_of_the_values_gives_the_same_float32_bytes(self):
        values = [random.uniform(-1e3, 1e3) for _ in range(2 * W)]
        values[3], values[5], values[7] = math.nan, math.inf, -0.0
        expected = struct.pack(f'<{len(values)}f', *values)
        forms = {
            'list': values,
            'tuple': tuple(values),
            "array('d')": array.array('d', values),
            'memoryview': memoryview(array.array('d', values)),
            'bytes of doubles': array.array('d', values).tobytes(),
            'numpy float64': numpy.array(values),
            'numpy float32': numpy.array(values, dtype=numpy.float32),
            'torch float64': torch.tensor(values, dtype=torch.float64),
            'torch float32': torch.tensor(values, dtype=torch.float32),
        }
        for name, form in forms.items():
            count, blob = _floats(form)
            self.assertEqual(count, len(values), name)
            self.assertEqual(blob, expected, name)

    def test_values_beyond_float32_are_inf(self):
        count, blob = _floats([1e300, -1e300, 1.0])
        self.assertEqual(list(struct.unpack('<3f', blob)), [math.inf, -math.inf, 1.0])

    def test_a_sample_that_is_not_rows_of_the_statistics_is_refused(self):
        with tempfile.TemporaryDirectory() as d:
            w = RunLogWriter(os.path.join(d, 'run'), project_root=d)
            w.layers([LAYER])
            with self.assertRaisesRegex(ValueError, f'not rows of {len(STAT_NAMES)} statistics'):
                w.sample(0, 1.0, 1.0, [0.0] * (W + 1))
            with self.assertRaisesRegex(ValueError, 'for at most 1 layers'):
                w.sample(0, 1.0, 1.0, [0.0] * (2 * W))
            w.close()


class Ends(unittest.TestCase):
    def test_close_and_a_with_block_that_raises(self):
        with tempfile.TemporaryDirectory() as d:
            with RunLogWriter(os.path.join(d, 'a'), project_root=d) as w:
                w.layers([LAYER])
                w.sample(0, 0.5, 2.0, [0.0] * W)
            self.assertEqual(meta(w.dir)[-1]['reason'], 'closed')
            self.assertEqual(meta(w.dir)[-1]['samples'], 1)
            with self.assertRaises(KeyError):
                with RunLogWriter(os.path.join(d, 'b'), project_root=d) as w:
                    raise KeyError('batch')
            end = meta(w.dir)[-1]
            self.assertEqual((end['reason'], end['message']), ('exception', "KeyError: 'batch'"))

    def _script_end(self, body):
        with tempfile.TemporaryDirectory() as d:
            code = (
                'import sys; sys.path.insert(0, %r)\nfrom normscope.runlog.writer import RunLogWriter\n'
                'w = RunLogWriter(%r, project_root=%r)\n%s\n'
            ) % (os.environ['PYTHONPATH'].split(os.pathsep)[0], os.path.join(d, 'run'), d, body)
            subprocess.run([sys.executable, '-c', code], capture_output=True, timeout=60)
            return meta(os.path.join(d, 'run'))[-1]

    def test_a_process_that_exits_without_close_or_dies_of_an_exception(self):
        self.assertEqual(self._script_end('w.loss(0, 1.0)')['reason'], 'exit')
        end = self._script_end('w.loss(0, 1.0)\nraise RuntimeError("out of memory")')
        self.assertEqual((end['reason'], end['message']), ('exception', 'RuntimeError: out of memory'))
        self.assertEqual(self._script_end('import os\nos._exit(0)')['type'], 'run', 'killed: no end record')

    def test_a_disk_error_stops_the_log_with_one_warning_never_the_training(self):
        with tempfile.TemporaryDirectory() as d:
            w = RunLogWriter(os.path.join(d, 'run'), project_root=d)
            w.layers([LAYER])
            os.close(w.meta_fd)  # what a full disk or a vanished mount looks like to the writer: write() fails
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter('always')
                w.skipped(3, 'amp-overflow')
                w.sample(4, 1.0, 1.0, [0.0] * W)
                w.loss(5, 1.0)
                w.close()
            self.assertEqual(len(caught), 1)
            self.assertIn('the run log', str(caught[0].message))
            self.assertTrue(w.broken)

    def test_a_new_run_folder_under_normscope_dir_never_reuses_one(self):
        with tempfile.TemporaryDirectory() as d:
            old = os.environ.get('NORMSCOPE_DIR')
            os.environ['NORMSCOPE_DIR'] = d
            try:
                a = RunLogWriter(script=os.path.join(d, 'train net.py'), project_root=d)
                b = RunLogWriter(script=os.path.join(d, 'train net.py'), project_root=d)
            finally:
                os.environ.pop('NORMSCOPE_DIR') if old is None else os.environ.__setitem__('NORMSCOPE_DIR', old)
            a.close()
            b.close()
            self.assertEqual(os.path.dirname(a.dir), d)
            self.assertRegex(os.path.basename(a.dir), r'^\d{8}-\d{6}-train-net$')
            self.assertNotEqual(a.dir, b.dir)
            self.assertEqual(meta(a.dir)[0]['file'], 'train net.py')


class EventPaths(unittest.TestCase):
    def test_numpy_and_the_loop_raise_the_same_events_and_keep_the_same_state(self):
        rng = random.Random(3)
        fast, slow = Events(STAT_NAMES), Events(STAT_NAMES, use_numpy=False)
        for seq in range(400):
            rows = 70 if seq < 200 else 90  # the table grows
            v = [
                rng.choice([math.nan, math.inf, -math.inf, 0.0])
                if rng.random() < 0.03
                else rng.lognormvariate(-2, 2 if seq % 50 == 0 else 0.3)
                for _ in range(rows * W)
            ]
            blob = struct.pack(f'<{rows * W}f', *v)
            self.assertEqual(fast.sample(seq, rows, blob), slow.sample(seq, rows, blob), f'sample {seq}')
        self.assertIsNotNone(fast.np)
        self.assertEqual(fast.means.tolist(), [slow.means[i : i + 3] for i in range(0, len(slow.means), 3)])


class Windows(unittest.TestCase):
    def test_windows_merge_and_a_condition_evicts_the_latest_jump(self):
        record = 100
        r = Retention(4 * record * (START_SAMPLES + 2 * (BEFORE + AFTER + 1)))  # protection: the start and two windows
        self.assertTrue(r.protect(100, record, 1))
        self.assertTrue(r.protect(100, record, 2), 'the same window at a higher priority')
        self.assertTrue(r.protect(200, record, 1))
        self.assertFalse(r.protect(300, record, 1), 'no room, nothing of lower priority')
        self.assertTrue(r.protect(400, record, 2), 'evicts the jump at 200, not the condition at 100')
        self.assertTrue(all(r.is_protected(s) for s in range(100 - BEFORE, 100 + AFTER + 1)))
        self.assertFalse(r.is_protected(200))
        self.assertTrue(r.is_protected(400 + AFTER) and not r.is_protected(400 + AFTER + 1))
        self.assertTrue(r.keeps(0) and r.keeps(START_SAMPLES - 1) and not r.keeps(START_SAMPLES + 1, 2))


if __name__ == '__main__':
    unittest.main()
