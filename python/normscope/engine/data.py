"""Training data for the short run: the user's `normscope["data"]()` (xs, ys), else batches synthesised from the input
shape (--input-shape, else the spec's, else read off the layer forward applies to its input first (entry.py):
Linear(in) → (in,), Conv2d(c) → (c, 32, 32), Embedding → tokens, …) with targets that fit the model's output."""

import inspect
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..measuring import creation
from .entry import first_layer
from .errors import UserError, from_exception

# Spatial size assumed for a conv input when the spec does not declare one.
SPATIAL = {nn.Conv1d: (64,), nn.Conv2d: (32, 32), nn.Conv3d: (16, 16, 16)}
SEQUENCE = 16  # tokens (or time steps) of a synthesised sequence
SYNTHETIC_BATCHES = 4

DATA_HELP = 'normscope = {"data": lambda: (xs, ys)} (xs a tuple of tensors for several inputs)'


def shape_help(kind=None):
    """How to give the input shape, in the form the model's input takes: tokens `[T]`, vectors `[F]`, sequences
    `[T, F]`, images `[C, H, W]` (the form to guess when nothing is known)."""
    rank = 1 if kind and kind[0] == 'tokens' else len(kind[1]) if kind else 3
    dims = '[T]' if kind and kind[0] == 'tokens' else {1: '[F]', 2: '[T, F]'}.get(rank, '[C, H, W]')
    return (
        f"--input-shape '{dims}' (without the batch dimension) or normscope = "
        f'{{"input_shape": ({dims[1:-1]}{"," if dims.count(",") == 0 else ""})}}'
    )


def _kind_of(module):
    """(kind, the layer as text) when `module` alone fixes the input, else None."""
    if isinstance(module, nn.Embedding):
        return ('tokens', (SEQUENCE,), module.num_embeddings), f'Embedding({module.num_embeddings}, ...)'
    if isinstance(module, nn.Linear):
        return ('float', (module.in_features,)), f'Linear({module.in_features}, ...)'
    if isinstance(module, nn.MultiheadAttention):  # a Transformer encoder's first layer: sequences of embed_dim vectors
        return ('float', (SEQUENCE, module.embed_dim)), f'MultiheadAttention({module.embed_dim}, ...)'
    if isinstance(module, nn.RNNBase):
        return ('float', (SEQUENCE, module.input_size)), f'{type(module).__name__}({module.input_size}, ...)'
    for cls, spatial in SPATIAL.items():
        if type(module) is cls:
            return ('float', (module.in_channels, *spatial)), f'{cls.__name__}({module.in_channels}, ...)'
    if isinstance(module, nn.LayerNorm):
        return ('float', tuple(module.normalized_shape)), f'LayerNorm({tuple(module.normalized_shape)})'
    if type(module) in (nn.BatchNorm1d, nn.BatchNorm2d):
        shape = (module.num_features,) if type(module) is nn.BatchNorm1d else (module.num_features, *SPATIAL[nn.Conv2d])
        return ('float', shape), f'{type(module).__name__}({module.num_features})'
    return None


def _forward_is_users(cls):
    """Whether `cls.forward` is written in the user's files (so its ast says what it does with its input)."""
    code = getattr(getattr(cls, 'forward', None), '__code__', None)
    return code is not None and creation.is_user_file(code.co_filename)


def _shape_text(kind):
    return f'{"token input" if kind[0] == "tokens" else "input"} of shape {kind[1]}'


def infer_input(model):
    """(kind, why) from the layer forward applies to its input first, else the first registered one that fixes it."""
    entry, path = first_layer(model, _forward_is_users)
    if entry is not None:
        for module in entry.modules():
            found = _kind_of(module)
            if found:
                return found[0], f'from {found[1]}' + (
                    f' at `{path}`, the layer forward applies to its input first' if path else ''
                )
    for module in model.modules():
        found = _kind_of(module)
        if found:
            return found[0], f'from the first {found[1]}'
    return None, None


def input_kind(model, spec, path, shape=None):
    """(kind, why): the shape given (--input-shape wins over the spec), typed as the first layer wants (tokens for an
    Embedding), else the inferred one."""
    given, origin = (
        (shape, '--input-shape') if shape is not None else (spec.get('input_shape'), 'normscope["input_shape"]')
    )
    inferred, why = infer_input(model)
    if given is not None:
        if not (
            isinstance(given, (tuple, list))
            and given
            and all(isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in given)
        ):
            raise UserError(
                'bad-spec',
                f'{os.path.basename(path)}: {origin} must be positive ints without the batch dimension, e.g. (3, 32, '
                f'32); got {given!r}',
                path,
            )
        if inferred is not None and inferred[0] == 'tokens':
            return ('tokens', tuple(given), inferred[2]), f'from {origin}'  # pyright: ignore -- a tokens kind has 3
        return ('float', tuple(given)), f'from {origin}'
    if inferred is None:
        raise UserError(
            'missing-input-shape',
            f'{os.path.basename(path)}: PyTorch modules do not know their input shape; give it with {shape_help()}',
            path,
        )
    return inferred, why


def make_inputs(kind, batch, generator):
    if kind[0] == 'tokens':
        return torch.randint(0, kind[2], (batch, *kind[1]), generator=generator)
    return torch.randn((batch, *kind[1]), generator=generator)


def call_model(model, x):
    """model(x); a tuple of inputs (normscope["data"] for a forward of several) is spread: model(*x)."""
    return model(*x) if isinstance(x, tuple) else model(x)


def _first_tensor(out):
    if isinstance(out, (tuple, list)):
        return out[0]
    return out


def loss_for(spec, output):
    """The loss function: the spec's ('mse' / 'cross_entropy' / a callable), else what fits the output."""
    name = spec.get('loss')
    if callable(name):
        return name
    if name == 'mse' or (name is None and not (output.dim() == 2 and output.shape[1] > 1)):
        return lambda out, y: F.mse_loss(_first_tensor(out), y)
    if name in ('cross_entropy', None):
        return lambda out, y: F.cross_entropy(_first_tensor(out), y)
    raise UserError('bad-spec', f"normscope['loss'] must be 'mse', 'cross_entropy' or a function, got {name!r}")


def make_targets(output, batch, generator, spec):
    out = _first_tensor(output)
    classification = spec.get('loss') == 'cross_entropy' or (
        spec.get('loss') is None and out.dim() == 2 and out.shape[1] > 1
    )
    if classification:
        return torch.randint(0, out.shape[1], (batch,), generator=generator)
    return torch.randn((batch, *out.shape[1:]), generator=generator)


def required_inputs(model):
    """forward's parameters without defaults (after self)."""
    try:
        params = inspect.signature(model.forward).parameters.values()
    except (TypeError, ValueError):
        return []
    return [p.name for p in params if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]


def _user_data(spec, path, batch_size):
    try:
        xs, ys = spec['data']()
    except Exception as e:
        raise UserError(
            'bad-spec', f'{os.path.basename(path)}: normscope["data"]() must return (xs, ys) tensors: {e}', path
        )
    if isinstance(xs, (tuple, list)):  # several inputs: one batch as given (their batch dimensions may differ)
        return [(tuple(xs), ys)]
    n = xs.shape[0]
    return [(xs[i : i + batch_size], ys[i : i + batch_size]) for i in range(0, n - batch_size + 1, batch_size)] or [
        (xs, ys)
    ]


def _forward_site(model, path):
    """(`model.py:48: `, file, line) of the model's forward when it is in the user's files, else of the checked file."""
    code = getattr(type(model).forward, '__code__', None)
    file = os.path.abspath(code.co_filename) if code else None
    file, line = (file, code.co_firstlineno) if file and creation.is_user_file(file) else (path, None)
    return f'{creation.display_path(file, path)}{f":{line}" if line else ""}: ', file, line


def _forward_error(model, path, kind, says):
    """A UserError on the line of `model`'s forward: '<file>:<line>: <Class>.forward <says>'."""
    shown, file, line = _forward_site(model, path)
    return UserError(kind, f'{shown}{type(model).__name__}.forward {says}', file, line)


def _several_inputs(model, path, names):
    return _forward_error(
        model,
        path,
        'several-inputs',
        f'takes {len(names)} inputs ({", ".join(names)}), and NormScope synthesises only one. Give training data with '
        f'{DATA_HELP}, or run your training script with `normscope run` to measure it on its own data.',
    )


def _several_outputs(model, path, probe):
    return _forward_error(
        model,
        path,
        'module-threw',
        f'returned {type(probe).__name__}, not a tensor (or a tuple starting with one), so NormScope cannot make '
        'targets for it; give the loss and data with '
        'normscope = {"loss": lambda out, y: ..., "data": lambda: (xs, ys)}.',
    )


def batches(model, spec, path, batch_size, seed, input_shape=None):
    """(list of (x, y) batches cycled through the run, synthetic?, note)."""
    generator = torch.Generator().manual_seed(seed)
    if 'data' in spec:
        return _user_data(spec, path, batch_size), False, None
    names = required_inputs(model)
    if len(names) > 1:
        raise _several_inputs(model, path, names)
    kind, why = input_kind(model, spec, path, input_shape)
    probe_x = make_inputs(kind, batch_size, generator)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            probe = _first_tensor(model(probe_x))
    except Exception as e:
        what = 'tokens' if kind[0] == 'tokens' else 'input'
        tried = f'{what} of shape {tuple(probe_x.shape)} (batch {batch_size}, {why})'
        raise from_exception(
            e,
            'module-threw',
            f'the first forward, on synthesised {tried}, raised',
            path,
            hint=f' Give the input shape with {shape_help(kind)}, or training data with {DATA_HELP}.',
        )
    model.train(was_training)
    if not isinstance(probe, torch.Tensor):
        raise _several_outputs(model, path, probe)
    out = [(make_inputs(kind, batch_size, generator), None) for _ in range(SYNTHETIC_BATCHES)]
    inferred = input_shape is None and 'input_shape' not in spec
    note = f'{_shape_text(kind)} {why}' + (f' ({shape_help(kind)} to change it)' if inferred else '')
    return [(x, make_targets(probe, batch_size, generator, spec)) for x, _ in out], True, note
