"""Errors the user's code raises where no caller can see them: an uncaught exception in a thread it started
(threading.excepthook) or one Python can only print (sys.unraisablehook: a __del__, a weakref callback). During a
run either fails the run with code `late-error` at the user's line, as the tfjs worker does for an error thrown from a
timer or a promise (src/worker/thread.ts). An unraisable exception with no frame in the user's files is the
libraries' business: printed as Python prints it, and the run goes on."""

import os
import sys
import threading
import traceback

from ..measuring import creation


def _user_frame(tb):
    frames = [f for f in traceback.extract_tb(tb) if creation.is_user_file(f.filename)]
    return frames[-1] if frames else None


def late_error(exc, tb, how):
    """The RunError of `exc`, at the innermost frame of the user's files when there is one."""
    frame = _user_frame(tb)
    where = f'{os.path.basename(frame.filename)}:{frame.lineno}: ' if frame else ''
    error = {
        'code': 'late-error',
        'message': f'{where}{how}: {type(exc).__name__}: {exc}',
        'stack': ''.join(traceback.format_exception(type(exc), exc, tb)),
    }
    if frame:
        error['file'], error['line'] = os.path.abspath(frame.filename), frame.lineno
    return error


def _name(obj):
    return getattr(obj, '__qualname__', None) or type(obj).__name__


def install(fail):
    """Route late errors of this process to `fail(error)`; forked children (DataLoader workers) keep Python's own."""
    engine = os.getpid()
    thread_default, unraisable_default = threading.excepthook, sys.unraisablehook

    def thread_hook(args):
        if os.getpid() != engine or args.exc_type is SystemExit:
            return thread_default(args)
        name = args.thread.name if args.thread is not None else 'a thread'
        fail(late_error(args.exc_value, args.exc_traceback, f'uncaught exception in thread {name!r}'))

    def unraisable_hook(unraisable):
        if os.getpid() != engine or _user_frame(unraisable.exc_traceback) is None:
            return unraisable_default(unraisable)
        fail(
            late_error(
                unraisable.exc_value,
                unraisable.exc_traceback,
                f'exception in {_name(unraisable.object)} (Python ignores it)',
            )
        )

    threading.excepthook = thread_hook
    sys.unraisablehook = unraisable_hook
