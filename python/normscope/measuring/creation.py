"""Creating lines: every nn.Module records where the user's code constructed it.

nn.Module.__init__ is wrapped once; the wrapper walks the stack outward, skips every frame that is an
__init__ of the module being built (nn.Linear.__init__, the user's Block.__init__ calling super()), and
takes the first remaining frame in the user's files. Helpers and loops therefore map to their own line.

"The user's files" are the project's, not only the script's folder: a script two levels down that imports the
project's own package (minGPT's projects/adder/adder.py → mingpt/model.py) maps each layer to the line in that
package that built it. The project is the editor's workspace folder (RunOptions.projectRoot), else the nearest
folder up with a project marker, else the script's folder; installed packages, the standard library and NormScope
itself never count, even inside the project (a virtual environment in it).
"""

import os
import site
import sys
import sysconfig

import torch.nn as nn

from .project import project_root

_user_dirs = []
_installed = False
_verdicts = {}  # filename → is_user_file, cached: asked for every frame of every module built


def _foreign_dirs():
    """Folders whose files are never the user's: installed packages, the standard library, NormScope."""
    paths = {p for key in ('stdlib', 'platstdlib', 'purelib', 'platlib') for p in [sysconfig.get_paths().get(key)] if p}
    try:
        paths |= set(site.getsitepackages()) | {site.getusersitepackages()}
    except AttributeError:  # some virtualenvs' site module lacks them
        pass
    paths.add(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # the whole normscope package
    return [os.path.abspath(p) for p in paths]


_FOREIGN = _foreign_dirs()


def _under(path, folder):
    return path == folder or path.startswith(folder + os.sep)


def is_user_file(path):
    verdict = _verdicts.get(path)
    if verdict is None:
        verdict = _judge(path)
        _verdicts[path] = verdict
    return verdict


def _judge(path):
    if not path or path.startswith('<'):  # exec'd or frozen code: '<string>', '<frozen importlib._bootstrap>'
        return False
    path = os.path.abspath(path)
    parts = path.split(os.sep)
    if 'site-packages' in parts or 'dist-packages' in parts or any(_under(path, d) for d in _FOREIGN):
        return False
    return any(_under(path, d) for d in _user_dirs)


def display_path(file, script):
    """How a message names `file`: its base name next to the script, else relative to the project (mingpt/model.py)."""
    file = os.path.abspath(file)
    if os.path.dirname(file) == os.path.dirname(os.path.abspath(script)):
        return os.path.basename(file)
    root = next((d for d in _user_dirs if _under(file, d)), None)
    return os.path.relpath(file, root) if root else file


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
                return {
                    'file': os.path.abspath(frame.f_code.co_filename),
                    'line': frame.f_lineno,
                    'column': _column(frame),
                }
        frame = frame.f_back
    return None


def install(user_file, root=None):
    """Start recording for modules built by code of the project of `user_file` (`root`: the editor's workspace folder).
    The project's import root (the nearest folder with a marker, up to the workspace folder) also goes on sys.path
    (last, after installed packages), so a script in a subfolder imports the project's own package as it does when
    the project is installed in development mode."""
    global _installed
    folder = os.path.dirname(os.path.abspath(user_file))
    root = os.path.abspath(root) if root and _under(folder, os.path.abspath(root)) else None
    imports = project_root(user_file, root)
    for d in (folder, root or imports):
        if d not in _user_dirs:
            _user_dirs.append(d)
    if imports not in sys.path:
        sys.path.append(imports)
    _verdicts.clear()
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
