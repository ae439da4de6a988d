"""Which modules a watcher measures, and what the user's code calls them."""

import os
import sys

import torch

from ..measuring.layers import model_names


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


def caller_model_names(models):
    """What the caller's code calls each model (`netG`): the nearest frame outside NormScope that binds it."""
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return model_names(models, sys._getframe(1), lambda file: not os.path.abspath(file).startswith(here + os.sep))
