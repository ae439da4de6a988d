"""Which modules a watcher measures, and what the user's code calls them."""

import os
import sys

import torch


def unwrap(model, notes):
    """The module whose layers run: DDP/DataParallel's `.module`, torch.compile's `_orig_mod`."""
    while True:
        name = type(model).__name__
        if name in ('DistributedDataParallel', 'DataParallel') and isinstance(
            getattr(model, 'module', None), torch.nn.Module
        ):
            model = model.module
        elif isinstance(getattr(model, '_orig_mod', None), torch.nn.Module):
            notes.append(
                f"{type(model._orig_mod).__name__} is torch.compile'd: its original module is measured, "
                'where the compiled graph calls its layers as modules; '
                'layers the compiler fused run without hooks and are not measured'
            )
            model = model._orig_mod
        else:
            return model


def model_names(models):
    """What the caller's code calls each model (`netG`): the nearest frame outside NormScope that binds it."""
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    names: list = [None] * len(models)
    frame = sys._getframe(1)
    while frame is not None and None in names:
        if not os.path.abspath(frame.f_code.co_filename).startswith(here + os.sep):
            for scope in (frame.f_locals, frame.f_globals):
                for k, m in enumerate(models):
                    if names[k] is None:
                        names[k] = next((n for n, v in scope.items() if v is m and not n.startswith('_')), None)
        frame = frame.f_back
    names = [n or type(m).__name__ for n, m in zip(names, models)]
    return [n if names.count(n) == 1 else f'{n}{k + 1}' for k, n in enumerate(names)]
