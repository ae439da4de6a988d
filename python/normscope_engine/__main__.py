"""`python -m normscope_engine '<RunOptions JSON>'`: one run, events as JSON lines on stdout.
The protocol keeps the real stdout; the user's prints (Python or C level) go to stderr, so they can never
corrupt the event stream. A line `cancel` on stdin stops the run at the next step boundary."""
import json
import math
import os
import sys
import threading


def _open_protocol():
    proto = os.fdopen(os.dup(1), 'w', buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return proto


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
    proto = _open_protocol()

    def emit(event):
        proto.write(json.dumps(_clean(event), allow_nan=False) + '\n')

    options = json.loads(sys.argv[1])
    run_id = options.get('runId', 'py')
    flag = threading.Event()

    def watch_stdin():
        for line in sys.stdin:
            if line.strip() == 'cancel':
                flag.set()
    threading.Thread(target=watch_stdin, daemon=True).start()
    try:
        import torch  # noqa: F401
    except ImportError:
        emit({'type': 'error', 'runId': run_id, 'error': {'code': 'missing-torch', 'message': f'{sys.executable} cannot import torch'}})
        return 3
    from .errors import UserError
    from .run import run
    try:
        run(options, emit, flag.is_set)
    except UserError as e:
        error = e.to_run_error()
        if getattr(e, 'stack', None):
            error['stack'] = e.stack
        emit({'type': 'error', 'runId': run_id, 'error': error})
    except MemoryError:
        emit({'type': 'error', 'runId': run_id, 'error': {'code': 'oom', 'message': 'The model ran out of memory; try a smaller batch size or model.'}})
    return 0


if __name__ == '__main__':
    sys.exit(main())
