"""Find the model in the user's imported file, with the same rules as the tfjs worker: an explicit name (--model), a
`model` instance, create_model/build_model/make_model/get_model, one nn.Module instance, else the root of the file's
class composition graph (candidates.py) that builds with the arguments given. Arguments come from the command line
(--args: a Python argument list as written between a call's parentheses, evaluated in the file's namespace, or a JSON
array), else the `normscope = {"args": [...], "kwargs": {...}}` spec."""

import ast
import inspect
import os

import torch.nn as nn

from ..analysis.candidates import BUILDER_NAMES, candidates, describe
from ..measuring import creation
from .errors import UserError, from_exception


def args_help(name='NAME'):
    return (
        f"--args '...' (Python, as between the parentheses of {name}(...)) or normscope = "
        '{"args": [...], "kwargs": {...}}'
    )


def _origin(obj, path):
    """(file, line) where `obj` (a class or function) is defined, as far as the user's files say; else (path, None)."""
    try:
        source = inspect.getsourcefile(obj)  # None for a class without a file: abspath raises TypeError
        file, line = os.path.abspath(source), inspect.getsourcelines(obj)[1]  # pyright: ignore[reportCallIssue]
    except (OSError, TypeError):
        return path, None
    return (file, line) if file == os.path.abspath(path) or creation.is_user_file(file) else (path, None)


def _at(obj, path):
    """`model.py:95: ` for a message about `obj`, with the file it is defined in (mingpt/model.py when imported)."""
    file, line = _origin(obj, path)
    return f'{creation.display_path(file, path)}{f":{line}" if line else ""}: ', file, line


def call_arguments(text, module, path):
    """(args, kwargs) of `--args` text evaluated in the file's namespace: `GPTConfig(n_layer=2), dropout=0.1`. A lone
    list (`[784, 10]`) is the JSON form: each element is one argument, as --args always read it."""
    try:
        call = ast.parse(f'f({text}\n)', mode='eval').body
    except SyntaxError as e:
        raise UserError(
            'bad-options',
            f'--args {text!r} is not a Python argument list (write it as between the parentheses of a call): {e.msg}',
            path,
        )
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == 'f'):
        raise UserError(
            'bad-options',
            f'--args {text!r} is not a Python argument list (write it as between the parentheses of a call)',
            path,
        )
    if len(call.args) == 1 and not call.keywords and isinstance(call.args[0], ast.List):
        call.args = call.args[0].elts
    call.func = ast.Name('__normscope_arguments__', ast.Load())
    namespace = dict(vars(module))
    namespace['__normscope_arguments__'] = lambda *a, **k: (list(a), k)
    try:
        return eval(compile(ast.fix_missing_locations(ast.Expression(call)), '<--args>', 'eval'), namespace)
    except Exception as e:
        raise from_exception(
            e, 'bad-options', f'evaluating --args {text!r} in the namespace of {os.path.basename(path)} raised', path
        )


def _build(name, factory, args, kwargs, path):
    try:
        built = factory(*args, **kwargs)
    except TypeError as e:
        if 'required positional argument' in str(e) or 'missing' in str(e):
            shown, file, line = _at(factory, path)
            raise UserError(
                'missing-args', f'{shown}{name} needs arguments ({e}); give them with {args_help(name)}', file, line
            )
        raise from_exception(e, 'factory-threw', f'{name}() raised', path)
    except Exception as e:
        raise from_exception(e, 'factory-threw', f'{name}() raised', path)
    if not isinstance(built, nn.Module):
        shown, file, line = _at(factory, path)
        raise UserError(
            'no-model', f'{shown}{name}() returned {type(built).__name__}, not a torch.nn.Module', file, line
        )
    return built


def _source_tree(path):
    try:
        with open(path, encoding='utf-8') as f:
            return ast.parse(f.read(), filename=path)
    except (OSError, SyntaxError, ValueError):
        return None


def _source_file(cls):
    try:
        return inspect.getsourcefile(cls)
    except TypeError:  # a built-in class
        return None


def _imported_models(names, module):
    """nn.Module classes the file imports from the project rather than defines (chargpt.py's `from mingpt.model
    import GPT`)."""
    out = []
    for n, v in names.items():
        if inspect.isclass(v) and issubclass(v, nn.Module) and getattr(v, '__module__', None) != module.__name__:
            source = _source_file(v)
            if source and creation.is_user_file(source):
                out.append(n)
    return out


def _class_model(module, path, names, args, kwargs):
    classes = {
        n: v
        for n, v in names.items()
        if inspect.isclass(v) and issubclass(v, nn.Module) and v.__module__ == module.__name__
    }
    tree = _source_tree(path)
    pick, listed = candidates(tree, classes.__contains__) if tree else (None, [])
    if pick is None and len(listed) == 0 and classes:  # every class uses another (or no source): the last, as before
        pick = max(classes, key=lambda n: _origin(classes[n], path)[1] or 0)
    if pick:
        return _build(pick, classes[pick], args, kwargs, path), f'{pick}()'
    if listed:
        raise UserError(
            'ambiguous-model',
            f'{os.path.basename(path)} defines several models that no other class uses: '
            f'{"; ".join(describe(c["name"], c) for c in listed)}. Choose one with --model NAME '
            f'(and its arguments with {args_help()})',
            path,
        )
    imported = _imported_models(names, module)
    hint = (
        f' It imports {", ".join(imported)}: check one with --model {imported[0]} (and its arguments with --args).'
        if imported
        else ''
    )
    raise UserError(
        'no-model',
        f'{os.path.basename(path)} defines no torch.nn.Module: add `model = ...`, a create_model() function, or an '
        f'nn.Module class.{hint}',
        path,
    )


def find_model(module, path, spec, wanted=None, args=None, args_text=None):
    """(model, description) for the run. Arguments: `args_text` (--args for a .py file), else `args` (a JSON array),
    else the spec's."""
    if args_text is not None:
        args, kwargs = call_arguments(args_text, module, path)
    elif args is not None:
        args, kwargs = list(args), {}
    else:
        args, kwargs = list(spec.get('args', [])), dict(spec.get('kwargs', {}))
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
    instances = [
        (n, v)
        for n, v in names.items()
        if isinstance(v, nn.Module)
        and not n.startswith('_')
        and not isinstance(v, nn.modules.loss._Loss)
        and any(True for _ in v.parameters())
    ]
    if len(instances) == 1:
        return instances[0][1], instances[0][0]
    if len(instances) > 1:
        raise UserError(
            'ambiguous-model',
            f'{os.path.basename(path)} has several nn.Module instances ({", ".join(n for n, _ in instances)}); choose '
            'one with --model',
            path,
        )
    return _class_model(module, path, names, args, kwargs)
