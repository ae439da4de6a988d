"""The two process-wide hooks a Watcher needs, installed while any watcher is open and taken off with the last:
- `torch.Tensor.backward`: the loss of a step is what backward() is called on (a one-element tensor), kept detached
  (no host sync: read once per sampled step).
- `GradScaler.step` (torch.cuda.amp and torch.amp): it calls `optimizer.step` only when the gradients are finite, so a
  watched optimizer whose step it did not call was skipped (an AMP overflow); the scale it used divides the loss and the
  activation gradients back to unscaled values.
Neither changes what runs: both call the original with the same arguments and return what it returns."""

import torch

_open = []  # watchers, oldest first
_saved = {}  # (owner, name) → the original attribute


def _scalers():
    found = []
    for path in ('cuda.amp', 'amp'):
        owner = torch
        for part in path.split('.'):
            owner = getattr(owner, part, None)
        cls = getattr(owner, 'GradScaler', None) if owner is not None else None
        if cls is not None and cls not in found and 'step' in cls.__dict__:
            found.append(cls)
    return found


def _backward(original):
    def backward(tensor, *args, **kwargs):
        if tensor.numel() == 1:
            loss = tensor.detach()
            for w in _open:
                w.on_backward(loss)
        return original(tensor, *args, **kwargs)

    return backward


def _scaler_step(original):
    def step(scaler, optimizer, *args, **kwargs):
        watchers = [w for w in _open if w.watches(optimizer)]
        for w in watchers:
            w.scaler_begin(optimizer, scaler)
        try:
            return original(scaler, optimizer, *args, **kwargs)
        finally:
            for w in watchers:
                w.scaler_end(optimizer)

    return step


def opened(watcher):
    if not _open:
        _patch(torch.Tensor, 'backward', _backward)
        for cls in _scalers():
            _patch(cls, 'step', _scaler_step)
    _open.append(watcher)


def closed(watcher):
    if watcher in _open:
        _open.remove(watcher)
    if not _open:
        for (owner, name), original in list(_saved.items()):
            setattr(owner, name, original)
        _saved.clear()


def _patch(owner, name, wrap):
    original = owner.__dict__[name]
    _saved[(owner, name)] = original
    setattr(owner, name, wrap(original))
