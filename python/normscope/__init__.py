"""NormScope for PyTorch: `normscope.watch(model, optimizer)` measures a user's own training run (normscope.watching);
the extension/CLI start the engine (`python -m normscope.engine`, normscope/engine) with the user's interpreter.

Subpackages: engine (the process the host starts), measuring (hooks, statistics, C sources), analysis (`ast` rules),
refactor (norm swaps), runlog (the run-log writer), watching (the public API)."""

from .version import __version__ as __version__  # the explicit re-export form: the public version


def __getattr__(name):
    """`watch` is imported on first use, so that `python -m normscope.engine` and the lint stay cheap to start."""
    if name == 'watch':
        from .watching import watch

        return watch
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
