"""Training data for the short run: the user's `normscope["data"]()` (xs, ys), else batches synthesised
from the input shape (declared in the spec, else read off the first layer: Linear(in) → (in,),
Conv2d(c) → (c, 32, 32), …) with targets that fit the model's output."""
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

from .errors import UserError

# Spatial size assumed for a conv input when the spec does not declare one.
SPATIAL = {nn.Conv1d: (64,), nn.Conv2d: (32, 32), nn.Conv3d: (16, 16, 16)}
SYNTHETIC_BATCHES = 4


def infer_input(model):
    """(shape, note) from the first layer that fixes it, or (None, None)."""
    for module in model.modules():
        if isinstance(module, nn.Linear):
            return ('float', (module.in_features,)), f'input shape ({module.in_features},) from the first Linear'
        for cls, spatial in SPATIAL.items():
            if type(module) is cls:
                shape = (module.in_channels, *spatial)
                return ('float', shape), f'input shape {shape} from the first {cls.__name__} (declare normscope = {{"input_shape": ...}} to change it)'
        if isinstance(module, nn.Embedding):
            return ('tokens', (16,), module.num_embeddings), f'token input of length 16 for the first Embedding({module.num_embeddings}, ...)'
    return None, None


def input_kind(model, spec, path):
    if 'input_shape' in spec:
        shape = spec['input_shape']
        if not (isinstance(shape, (tuple, list)) and shape and all(isinstance(d, int) and d > 0 for d in shape)):
            raise UserError('bad-spec', f'{os.path.basename(path)}: normscope["input_shape"] must be a tuple of positive ints without the batch dimension, e.g. (3, 32, 32); got {shape!r}', path)
        return ('float', tuple(shape)), None
    kind, note = infer_input(model)
    if kind is None:
        raise UserError('missing-input-shape', f'{os.path.basename(path)}: PyTorch modules do not know their input shape; declare it once with normscope = {{"input_shape": (3, 32, 32)}} (without the batch dimension)', path)
    return kind, note


def make_inputs(kind, batch, generator):
    if kind[0] == 'tokens':
        return torch.randint(0, kind[2], (batch, *kind[1]), generator=generator)
    return torch.randn((batch, *kind[1]), generator=generator)


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
    classification = spec.get('loss') == 'cross_entropy' or (spec.get('loss') is None and out.dim() == 2 and out.shape[1] > 1)
    if classification:
        return torch.randint(0, out.shape[1], (batch,), generator=generator)
    return torch.randn((batch, *out.shape[1:]), generator=generator)


def batches(model, spec, path, batch_size, seed):
    """(list of (x, y) batches cycled through the run, synthetic?, note)."""
    generator = torch.Generator().manual_seed(seed)
    if 'data' in spec:
        try:
            xs, ys = spec['data']()
        except Exception as e:
            raise UserError('bad-spec', f'{os.path.basename(path)}: normscope["data"]() must return (xs, ys) tensors: {e}', path)
        n = xs.shape[0]
        return [(xs[i:i + batch_size], ys[i:i + batch_size]) for i in range(0, n - batch_size + 1, batch_size)] or [(xs, ys)], False, None
    kind, note = input_kind(model, spec, path)
    probe_x = make_inputs(kind, batch_size, generator)
    was_training = model.training
    model.eval()
    with torch.no_grad():
        probe = _first_tensor(model(probe_x))
    model.train(was_training)
    out = [(make_inputs(kind, batch_size, generator), None) for _ in range(SYNTHETIC_BATCHES)]
    return [(x, make_targets(probe, batch_size, generator, spec)) for x, _ in out], True, note
