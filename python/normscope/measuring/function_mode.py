"""Watching the torch calls of a measured forward (functional.py) with a TorchFunctionMode (torch ≥ 1.13), which
sees every torch call, reading a tensor's shape included — each one then a Python call (on torch 1.13 through its
Python mode stack, several microseconds). So the Meter's hooks take the mode off while they run (`pause`/`resume`;
hooks_mode.c does the same in C), or it would cost them more than all their statistics; and the mode is on only
during the measured models' forwards of the steps that need it (functional.py)."""

try:  # torch 1.13+
    from torch.overrides import TorchFunctionMode, _get_current_function_mode, _pop_mode, _push_mode
except ImportError:
    TorchFunctionMode = None

if TorchFunctionMode is not None:

    class _Mode(TorchFunctionMode):
        def __init__(self, dispatch):
            super().__init__()
            self.dispatch = dispatch

        def __torch_function__(self, func, types, args=(), kwargs=None):
            return self.dispatch(func, args, kwargs or {})


class TorchCallWatcher:
    """`dispatch(func, args, kwargs)` gets (and runs) every torch call between `start` and `stop`."""

    def __init__(self, dispatch):
        self.mode = _Mode(dispatch) if TorchFunctionMode is not None else None
        self.on = False

    @property
    def available(self):
        return self.mode is not None

    def start(self):
        if not self.on and self.mode is not None:
            self.on = True
            self.mode.__enter__()

    def stop(self):
        if self.on:
            self.on = False
            if _get_current_function_mode() is self.mode:  # only our own, never a user's mode above it
                self.mode.__exit__(None, None, None)

    def pause(self):
        """Off while a hook measures; returns what `resume` needs (None: nothing was taken off)."""
        return _pop_mode() if self.on and _get_current_function_mode() is self.mode else None

    @staticmethod
    def resume(paused):
        if paused is not None:
            _push_mode(paused)
