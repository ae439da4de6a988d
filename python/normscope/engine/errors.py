"""Errors in the user's code, reported as a RunError (src/protocol/run.ts) with the file and line."""

import os
import traceback

from ..measuring import creation
from .landlock import refused


class UserError(Exception):
    def __init__(self, code, message, file=None, line=None):
        super().__init__(message)
        self.code = code
        self.file = file
        self.line = line
        self.stack: 'str | None' = None  # the user's traceback, when there is one (from_exception)

    def to_run_error(self):
        out = {'code': self.code, 'message': str(self)}
        if self.file:
            out['file'] = self.file
        if self.line:
            out['line'] = self.line
        return out


def where(path, line=None):
    """`model.py:12: ` or `model.py: ` — never `model.py:None: `."""
    return f'{os.path.basename(path)}:{line}: ' if line else f'{os.path.basename(path)}: '


def from_exception(e, code, what, user_file, hint=''):
    """A user-code exception as a UserError at the innermost frame in the user's files (the project's, see
    creation.py: a layer of the project's own package that raised), else in `user_file`; what the Landlock restriction
    refused (landlock.py) as 'permission-denied', saying what and how to allow it."""
    frames = traceback.extract_tb(e.__traceback__)
    mine = [
        f
        for f in frames
        if os.path.abspath(f.filename) == os.path.abspath(user_file) or creation.is_user_file(f.filename)
    ]
    frame = mine[-1] if mine else None
    file = os.path.abspath(frame.filename) if frame else user_file
    line = frame.lineno if frame else None
    shown = f'{creation.display_path(file, user_file)}:{line}: ' if line else ''
    text = str(e)
    if hint and not text.rstrip().endswith(('.', '!', '?')):
        text += '.'
    denied = refused(e)
    if denied:
        err = UserError('permission-denied', f'{shown}{what}: {denied}', file, line)
    else:
        err = UserError(code, f'{shown}{what}: {type(e).__name__}: {text}{hint}', file, line)
    err.stack = ''.join(traceback.format_exception(type(e), e, e.__traceback__))
    return err


def syntax_error(e, path, code, what):
    """A SyntaxError while running the user's file: a syntax error of the user's files only when it is in one of them
    (the script, a module of the project it imports); one raised by code the script evaluates (`ast.literal_eval` of an
    argument, eval/compile of a string) is an exception of the line that evaluated it."""
    filename = getattr(e, 'filename', None)
    if filename and (os.path.abspath(filename) == os.path.abspath(path) or creation.is_user_file(filename)):
        file = os.path.abspath(filename)
        return UserError(
            'syntax',
            f'{creation.display_path(file, path)}:{e.lineno}: syntax error: {e.msg}'
            if e.lineno
            else f'{creation.display_path(file, path)}: syntax error: {e.msg}',
            file,
            e.lineno,
        )
    return from_exception(e, code, what, path)
