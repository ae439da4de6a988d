"""Errors in the user's code, reported as a RunError (src/protocol/run.ts) with the file and line."""
import os
import traceback

from .landlock import refused


class UserError(Exception):
    def __init__(self, code, message, file=None, line=None):
        super().__init__(message)
        self.code = code
        self.file = file
        self.line = line

    def to_run_error(self):
        out = {'code': self.code, 'message': str(self)}
        if self.file:
            out['file'] = self.file
        if self.line:
            out['line'] = self.line
        return out


def from_exception(e, code, what, user_file):
    """A user-code exception as a UserError at the innermost frame in the user's file; what the Landlock restriction
    refused (landlock.py) as 'permission-denied', saying what and how to allow it."""
    frames = [f for f in traceback.extract_tb(e.__traceback__) if os.path.abspath(f.filename) == os.path.abspath(user_file)]
    line = frames[-1].lineno if frames else None
    where = f'{os.path.basename(user_file)}:{line}: ' if line else ''
    denied = refused(e)
    if denied:
        err = UserError('permission-denied', f'{where}{what}: {denied}', user_file, line)
    else:
        err = UserError(code, f'{where}{what}: {type(e).__name__}: {e}', user_file, line)
    err.stack = ''.join(traceback.format_exception(type(e), e, e.__traceback__))
    return err
