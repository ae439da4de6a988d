"""Import the user's .py file and find the model, with the same rules as the tfjs worker:
an explicit name (--model), a `model` instance, create_model/build_model/make_model/get_model, one
nn.Module instance, else the last nn.Module class defined in the file that builds without arguments.
Arguments come from `--args`, else the `normscope = {"args": [...]}` spec."""
import importlib.util
import inspect
import os
import sys

import torch.nn as nn

from . import creation
from .errors import UserError, from_exception

BUILDER_NAMES = ('create_model', 'build_model', 'make_model', 'get_model')
SPEC_KEYS = {'input_shape', 'args', 'kwargs', 'batch_size', 'steps', 'lr', 'optimizer', 'loss', 'data', 'model'}


def import_user_file(path, norm_swap=None):
    """The user's module; with `norm_swap` ({line, to}) the normalization on that line is swapped first (what-if run)."""
    directory = os.path.dirname(path)
    if directory not in sys.path:
        sys.path.insert(0, directory)
    spec = importlib.util.spec_from_file_location('normscope_user_model', path)
    module = importlib.util.module_from_spec(spec)
    try:
        if norm_swap:
            _exec_swapped(module, path, norm_swap)
        else:
            spec.loader.exec_module(module)
    except UserError:  # the swap's own (no-norm-at-line, bad-options), not the file's
        raise
    except SyntaxError as e:
        raise UserError('syntax', f'{os.path.basename(path)}:{e.lineno}: syntax error: {e.msg}', path, e.lineno)
    except ModuleNotFoundError as e:
        raise from_exception(e, 'missing-package', f"cannot import '{e.name}' (install it in the interpreter NormScope uses)", path)
    except Exception as e:
        raise from_exception(e, 'factory-threw', 'importing the file raised', path)
    return module


def _exec_swapped(module, path, norm_swap):
    import math

    from .swap import RMSNORM_MODULE, NoNormAtLine, SwapError, swap
    with open(path, encoding='utf-8') as f:
        text = f.read()
    try:
        new_text, _ = swap(text, norm_swap['line'], norm_swap['to'], inline=True)
    except NoNormAtLine:
        raise no_norm_at_line(path, norm_swap['line'])
    except SwapError as e:  # this candidate does not fit the norm on the line (GroupNorm on vectors): the others may
        raise UserError('bad-options', f"{os.path.basename(path)}:{norm_swap['line']}: {e}", path, norm_swap['line'])
    module.__dict__['math'] = math
    exec(compile(RMSNORM_MODULE, '<normscope RMSNorm>', 'exec'), module.__dict__)
    exec(compile(new_text, path, 'exec'), module.__dict__)


def no_norm_at_line(path, line):
    """The error of the tfjs worker (src/worker/surgery.ts) for a what-if run at a line without a norm layer."""
    return UserError('no-norm-at-line', f'{os.path.basename(path)}:{line} creates no normalization layer of this model (BatchNorm, '
                     'LayerNorm, GroupNorm, RMSNorm or InstanceNorm), so there is nothing to compare.', path, line)


def check_norm_at_line(model, path, line):
    """A what-if run's swapped line must build a norm layer of the model itself, as in tfjs: a norm call in a class or
    helper the model does not use changes nothing, and every candidate would train the same model."""
    from .measure import is_norm
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
        raise UserError('bad-spec', f"{os.path.basename(path)}: 'normscope' must be a dict like {{\"input_shape\": (3, 32, 32)}}", path)
    unknown = sorted(set(spec) - SPEC_KEYS)
    if unknown:
        raise UserError('bad-spec', f"{os.path.basename(path)}: 'normscope' has unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(SPEC_KEYS))}", path)
    return spec


def _defined_here(obj, module):
    return getattr(obj, '__module__', None) == module.__name__


def _line_of(obj):
    try:
        return inspect.getsourcelines(obj)[1]
    except (OSError, TypeError):
        return None


def _build(name, factory, args, kwargs, path):
    try:
        built = factory(*args, **kwargs)
    except TypeError as e:
        if 'required positional argument' in str(e) or 'missing' in str(e):
            line = _line_of(factory)
            raise UserError('missing-args', f"{os.path.basename(path)}:{line}: {name} needs arguments ({e}); give them with --args '[...]' or normscope = {{\"args\": [...]}}", path, line)
        raise from_exception(e, 'factory-threw', f'{name}() raised', path)
    except Exception as e:
        raise from_exception(e, 'factory-threw', f'{name}() raised', path)
    if not isinstance(built, nn.Module):
        line = _line_of(factory)
        raise UserError('no-model', f'{os.path.basename(path)}:{line}: {name}() returned {type(built).__name__}, not a torch.nn.Module', path, line)
    return built


LOSS_NAMES = {nn.CrossEntropyLoss: 'cross_entropy', nn.NLLLoss: 'cross_entropy', nn.MSELoss: 'mse'}


def training_setup(module, model, spec):
    """The file's own loss (`criterion = nn.CrossEntropyLoss()`) and optimizer (`optim.SGD(net.parameters(), lr=...)`)
    when the spec does not name them: (spec with them filled in, notes)."""
    import torch
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
                spec['optimizer'] = lambda ps, cls=type(v), defaults=dict(v.defaults): cls(ps, **defaults)
                notes.append(f'optimizer {type(v).__name__} from `{name}` ({", ".join(f"{k}={v.defaults[k]}" for k in ("lr", "momentum", "weight_decay") if k in v.defaults)})')
                break
    return spec, notes


def find_model(module, path, spec, wanted=None, args=None):
    """(model, description) for the run."""
    args = list(args if args is not None else spec.get('args', []))
    kwargs = dict(spec.get('kwargs', {}))
    wanted = wanted or spec.get('model')
    names = vars(module)
    if wanted:
        if wanted not in names:
            raise UserError('no-model', f"{os.path.basename(path)} has no '{wanted}'", path)
        obj = names[wanted]
        return (obj, wanted) if isinstance(obj, nn.Module) else (_build(wanted, obj, args, kwargs, path), f'{wanted}()')
    if isinstance(names.get('model'), nn.Module):
        return names['model'], 'model'
    for builder in BUILDER_NAMES:
        if callable(names.get(builder)):
            return _build(builder, names[builder], args, kwargs, path), f'{builder}()'
    # A loss (`criterion = nn.CrossEntropyLoss()`) or a parameterless module is not the model.
    instances = [(n, v) for n, v in names.items() if isinstance(v, nn.Module) and not n.startswith('_')
                 and not isinstance(v, nn.modules.loss._Loss) and any(True for _ in v.parameters())]
    if len(instances) == 1:
        return instances[0][1], instances[0][0]
    if len(instances) > 1:
        raise UserError('ambiguous-model', f"{os.path.basename(path)} has several nn.Module instances ({', '.join(n for n, _ in instances)}); choose one with --model", path)
    classes = [v for v in names.values() if inspect.isclass(v) and issubclass(v, nn.Module) and _defined_here(v, module)]
    classes.sort(key=lambda c: _line_of(c) or 0)
    if classes:
        cls = classes[-1]
        return _build(cls.__name__, cls, args, kwargs, path), f'{cls.__name__}()'
    raise UserError('no-model', f'{os.path.basename(path)} defines no torch.nn.Module: add `model = ...`, a create_model() function, or an nn.Module class', path)
