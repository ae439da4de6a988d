"""Least privilege where Landlock is missing, and the pieces of landlock.py that need no restriction to test (run by
test/unit/pytorch-features.test.ts with the other Python tests). A real restriction would confine the test runner
itself: test/unit/pytorch-confine.test.ts restricts real engine processes instead."""

import os
import sys
import tempfile
import unittest
from unittest import mock

from normscope.engine import landlock


class Confine(unittest.TestCase):
    def setUp(self):
        self.saved = dict(os.environ), tempfile.tempdir

    def tearDown(self):
        os.environ.clear()
        os.environ.update(self.saved[0])
        tempfile.tempdir = self.saved[1]
        landlock._confined.clear()

    def test_without_landlock_the_run_goes_unrestricted_and_says_so_once(self):
        with tempfile.TemporaryDirectory() as writable, mock.patch.object(
            landlock, 'abi', return_value=0
        ), mock.patch.object(landlock, 'restrict') as restrict:
            os.environ['NORMSCOPE_WRITE_DIR'] = writable
            note = landlock.confine({'file': 'm.py'})
            restrict.assert_not_called()
            self.assertRegex(note, r'^permissions: not restricted: Landlock is not available .*ran with your rights')
            self.assertIsNone(
                landlock.refused(PermissionError(13, 'Permission denied', '/root/x')),
                'no refusal without a restriction',
            )

    def test_a_script_run_or_permissions_off_is_never_restricted(self):
        with mock.patch.object(landlock, 'restrict') as restrict:
            self.assertIsNone(landlock.confine({'file': 'train.py', 'script': {'args': []}}))
            self.assertIsNone(landlock.confine({'file': 'm.py', 'permissions': 'off'}))
            restrict.assert_not_called()

    def test_the_temp_folder_becomes_the_writable_one(self):
        with tempfile.TemporaryDirectory() as writable, mock.patch.object(
            landlock, 'abi', return_value=7
        ), mock.patch.object(landlock, 'restrict') as restrict:
            os.environ['NORMSCOPE_WRITE_DIR'] = writable
            self.assertIsNone(landlock.confine({'file': 'm.py'}))
            restrict.assert_called_once_with([writable, '/dev/shm'], 7)
            self.assertEqual((os.environ['TMPDIR'], tempfile.gettempdir()), (writable, writable))


class Refusals(unittest.TestCase):
    def tearDown(self):
        landlock._confined.clear()

    def test_a_refused_write_a_refused_program_and_a_real_permission_problem(self):
        with tempfile.TemporaryDirectory() as home:
            landlock._confined['writable'] = '/tmp/normscope-run-x'
            denied = landlock.refused(PermissionError(13, 'Permission denied', os.path.join(home, 'x.txt')))
            self.assertRegex(
                denied, r'not allowed to write .*x\.txt \(writes are allowed only under /tmp/normscope-run-x\)'
            )
            wrapped = RuntimeError('could not save')
            wrapped.__cause__ = PermissionError(13, 'Permission denied', os.path.join(home, 'y.txt'))
            self.assertRegex(landlock.refused(wrapped), r'not allowed to write .*y\.txt')
            if os.getuid() != 0:  # root may write anywhere: no folder it cannot write to
                self.assertIsNone(landlock.refused(PermissionError(13, 'Permission denied', '/proc/1/x')))
            self.assertIsNone(
                landlock.refused(PermissionError(1, 'Operation not permitted')), 'EPERM (a signal) is not the network'
            )
            self.assertRegex(
                landlock.refused(PermissionError(13, 'Permission denied')), 'not allowed to open network connections'
            )


class ElfInterpreter(unittest.TestCase):
    def test_the_interpreter_of_this_python_and_none_for_a_script(self):
        loader = landlock.elf_interpreter(os.path.realpath(sys.executable))
        if sys.platform.startswith('linux'):
            self.assertTrue(loader and os.path.exists(loader), loader)
            self.assertIn('ld', os.path.basename(loader))
        self.assertIsNone(landlock.elf_interpreter(__file__))
        self.assertIsNone(landlock.elf_interpreter('/nonexistent'))


if __name__ == '__main__':
    unittest.main()
