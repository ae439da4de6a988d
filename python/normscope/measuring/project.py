"""The project a file belongs to: the nearest folder up with a project marker (creation.py's rule for the user's
files; the run log's root for relative source paths). No torch: the run-log writer imports it."""

import os

PROJECT_MARKERS = ('.git', 'pyproject.toml', 'setup.py', 'setup.cfg')


def project_root(path, stop=None):
    """The nearest folder at or above `path`'s folder with a project marker, not above `stop` (returned when none is
    found below it); without `stop`, the file's folder when none is found up to the file system's root."""
    start = os.path.dirname(os.path.abspath(path))
    folder = start
    while True:
        if any(os.path.exists(os.path.join(folder, m)) for m in PROJECT_MARKERS) or folder == stop:
            return folder
        parent = os.path.dirname(folder)
        if parent == folder:
            return start
        folder = parent
