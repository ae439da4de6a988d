"""`python -m normscope.engine '<RunOptions JSON>'`: one run, events as JSON lines to the host. How the engine talks
to the host and always ends is lifetime.py's; errors the user's threads raise later, late_errors.py's; least privilege
for model files, landlock.py's."""

import json
import math
import sys
import threading

from .lifetime import Lifetime


def _clean(value):
    """NaN/Inf are not JSON: null, as the TS worker sends them."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def main():
    life = Lifetime()
    life.guard()
    options = json.loads(sys.argv[1])
    run_id = options.get('runId', 'py')
    lock, ended = threading.RLock(), []

    def emit(event):
        """One event; nothing after the run's end (`done` or `error`), whichever thread ended it."""
        with lock:
            if ended:
                return
            if event['type'] in ('done', 'error'):
                ended.append(event['type'])
            life.send(json.dumps(_clean(event), allow_nan=False))

    def fail(error):
        emit({'type': 'error', 'runId': run_id, 'error': {'file': options.get('file'), **error}})
        life.cancel.set()

    try:
        import torch  # noqa: F401
    except ImportError:
        emit(
            {
                'type': 'error',
                'runId': run_id,
                'error': {'code': 'missing-torch', 'message': f'{sys.executable} cannot import torch'},
            }
        )
        return 3
    from . import landlock, late_errors
    from .errors import UserError
    from .run import run

    note = landlock.confine(options)  # before any other thread starts: Landlock restricts the calling thread
    life.start_watching()
    late_errors.install(fail)
    try:
        run(options, emit, life.cancel.is_set, [note] if note else [])
    except UserError as e:
        error = e.to_run_error()
        if getattr(e, 'stack', None):
            error['stack'] = e.stack
        emit({'type': 'error', 'runId': run_id, 'error': error})
    except MemoryError:
        emit(
            {
                'type': 'error',
                'runId': run_id,
                'error': {'code': 'oom', 'message': 'The model ran out of memory; try a smaller batch size or model.'},
            }
        )
    return 0


if __name__ == '__main__':
    sys.exit(main())
