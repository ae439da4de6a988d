"""Creating lines: every nn.Module records where the user's code constructed it.

nn.Module.__init__ is wrapped once; the wrapper walks the stack outward, skips every frame that is an
__init__ of the module being built (nn.Linear.__init__, the user's Block.__init__ calling super()), and
takes the first remaining frame in the user's files. Helpers and loops therefore map to their own line.
"""
import os
import sys

import torch.nn as nn

_user_dirs = []
_installed = False


def is_user_file(path):
    path = os.path.abspath(path)
    return any(path.startswith(d + os.sep) for d in _user_dirs) and 'site-packages' not in path and 'dist-packages' not in path


def _column(frame):
    """1-based column of the call being executed in `frame` (Python 3.11+), else 1."""
    try:
        positions = list(frame.f_code.co_positions())
        pos = positions[frame.f_lasti // 2]
        return (pos[2] or 0) + 1
    except Exception:  # older Pythons: no co_positions
        return 1


def _call_site(module):
    frame = sys._getframe(2)
    while frame is not None:
        if not (frame.f_code.co_name == '__init__' and frame.f_locals.get('self') is module):
            if is_user_file(frame.f_code.co_filename):
                return {'file': os.path.abspath(frame.f_code.co_filename), 'line': frame.f_lineno, 'column': _column(frame)}
        frame = frame.f_back
    return None


def install(user_file):
    """Start recording for modules built by code under the directory of `user_file`."""
    global _installed
    _user_dirs.append(os.path.dirname(os.path.abspath(user_file)))
    if _installed:
        return
    _installed = True
    original = nn.Module.__init__

    def recording_init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        if '_normscope_source' not in self.__dict__:
            object.__setattr__(self, '_normscope_source', _call_site(self))

    nn.Module.__init__ = recording_init


def source_of(module):
    return module.__dict__.get('_normscope_source')
