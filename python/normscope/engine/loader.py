"""Import the user's .py file, read its `normscope` spec and the loss and optimizer it builds (model_pick.py finds the
model)."""

import importlib.util
import math
import os
import sys

import torch
import torch.nn as nn

from ..measuring import creation
from ..measuring.meter import is_norm
from ..refactor.swap import RMSNORM_MODULE, NoNormAtLine, SwapError, swap
from .errors import UserError, from_exception, syntax_error

SPEC_KEYS = {'input_shape', 'args', 'kwargs', 'batch_size', 'steps', 'lr', 'optimizer', 'loss', 'data', 'model'}


def import_user_file(path, norm_swap=None):
    """The user's module; with `norm_swap` ({line, to}) the normalization on that line is swapped first (what-if
    run)."""
    directory = os.path.dirname(path)
    if directory not in sys.path:
        sys.path.insert(0, directory)
    spec = importlib.util.spec_from_file_location('normscope_user_model', path)
    module = importlib.util.module_from_spec(spec)
    # Registered, as an import would: inspect (class lines), pickle and dataclasses look classes up through sys.modules.
    sys.modules[spec.name] = module
    try:
        if norm_swap:
            _exec_swapped(module, path, norm_swap)
        else:
            spec.loader.exec_module(module)  # pyright: ignore[reportAttributeAccessIssue] -- a file's SourceLoader
    except UserError:  # the swap's own (no-norm-at-line, bad-options), not the file's
        raise
    except SyntaxError as e:
        raise syntax_error(e, path, 'factory-threw', 'importing the file raised')
    except ModuleNotFoundError as e:
        raise from_exception(
            e, 'missing-package', f"cannot import '{e.name}' (install it in the interpreter NormScope uses)", path
        )
    except Exception as e:
        raise from_exception(e, 'factory-threw', 'importing the file raised', path)
    return module


def _exec_swapped(module, path, norm_swap):
    with open(path, encoding='utf-8') as f:
        text = f.read()
    try:
        new_text, _ = swap(text, norm_swap['line'], norm_swap['to'], inline=True)
    except NoNormAtLine:
        raise no_norm_at_line(path, norm_swap['line'])
    except SwapError as e:  # this candidate does not fit the norm on the line (GroupNorm on vectors): the others may
        raise UserError('bad-options', f'{os.path.basename(path)}:{norm_swap["line"]}: {e}', path, norm_swap['line'])
    module.__dict__['math'] = math
    exec(compile(RMSNORM_MODULE, '<normscope RMSNorm>', 'exec'), module.__dict__)
    exec(compile(new_text, path, 'exec'), module.__dict__)


def no_norm_at_line(path, line):
    """The error of the tfjs worker (src/worker/surgery.ts) for a what-if run at a line without a norm layer."""
    return UserError(
        'no-norm-at-line',
        f'{os.path.basename(path)}:{line} creates no normalization layer of this model (BatchNorm, '
        'LayerNorm, GroupNorm, RMSNorm or InstanceNorm), so there is nothing to compare.',
        path,
        line,
    )


def check_norm_at_line(model, path, line):
    """A what-if run's swapped line must build a norm layer of the model itself, as in tfjs: a norm call in a class or
    helper the model does not use changes nothing, and every candidate would train the same model."""
    for m in model.modules():
        source = creation.source_of(m)
        if source and source['line'] == line and source['file'] == os.path.abspath(path) and is_norm(m):
            return
    raise no_norm_at_line(path, line)


def read_spec(module, path):
    spec = getattr(module, 'normscope', None)
    if spec is None:
        return {}
    if not isinstance(spec, dict):
        raise UserError(
            'bad-spec',
            f'{os.path.basename(path)}: \'normscope\' must be a dict like {{"input_shape": (3, 32, 32)}}',
            path,
        )
    unknown = sorted(set(spec) - SPEC_KEYS)
    if unknown:
        raise UserError(
            'bad-spec',
            f"{os.path.basename(path)}: 'normscope' has unknown key(s) {', '.join(unknown)}; known: "
            f'{", ".join(sorted(SPEC_KEYS))}',
            path,
        )
    return spec


LOSS_NAMES = {nn.CrossEntropyLoss: 'cross_entropy', nn.NLLLoss: 'cross_entropy', nn.MSELoss: 'mse'}


def _same_optimizer(cls, defaults):
    """A factory of the file's optimizer: its class with its settings, over the parameters it is given."""
    return lambda params: cls(params, **defaults)


def training_setup(module, model, spec):
    """The file's own loss (`criterion = nn.CrossEntropyLoss()`) and optimizer (`optim.SGD(net.parameters(), lr=...)`)
    when the spec does not name them: (spec with them filled in, notes)."""
    spec, notes = dict(spec), []
    values = list(vars(module).items())
    if 'loss' not in spec:
        for name, v in values:
            if type(v) in LOSS_NAMES:
                spec['loss'] = LOSS_NAMES[type(v)]
                notes.append(f'loss {type(v).__name__} from `{name}`')
                break
    if 'optimizer' not in spec:
        params = {id(p) for p in model.parameters()}
        for name, v in values:
            if isinstance(v, torch.optim.Optimizer) and {id(p) for g in v.param_groups for p in g['params']} == params:
                spec['optimizer'] = _same_optimizer(type(v), dict(v.defaults))
                shown = ', '.join(f'{k}={v.defaults[k]}' for k in ('lr', 'momentum', 'weight_decay') if k in v.defaults)
                notes.append(f'optimizer {type(v).__name__} from `{name}` ({shown})')
                break
    return spec, notes
