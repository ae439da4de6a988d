"""Which model a file means, read with Python's own `ast` (no torch): the composition graph of its classes.

A file usually defines its model's building blocks before or after the model (fast_neural_style's TransformerNet, then
ConvLayer, ResidualBlock, UpsampleConvLayer), so "the last class" picks a block. The model is the class no other class
of the file uses — by name in its body, or as its base class. When several such roots remain (word_language_model's
RNNModel and TransformerModel), each is a candidate, listed with its line and constructor parameters, together with
the file's module-level functions that build one of its classes without required arguments (a `resnet18()`).
"""

import ast

BUILDER_NAMES = ('create_model', 'build_model', 'make_model', 'get_model')


def _params(a, skip=0):
    """The parameters of `a` (ast.arguments) after the first `skip` (self), as written (`ntoken`, `dropout=0.5`,
    `*args`), and how many are required."""
    positional = a.posonlyargs + a.args
    defaults = [None] * (len(positional) - len(a.defaults)) + list(a.defaults)
    shown, required = [], 0
    for arg, default in list(zip(positional, defaults))[skip:]:
        shown.append(arg.arg if default is None else f'{arg.arg}={ast.unparse(default)}')
        required += default is None
    if a.vararg:
        shown.append(f'*{a.vararg.arg}')
    for arg, default in zip(a.kwonlyargs, a.kw_defaults):
        shown.append(arg.arg if default is None else f'{arg.arg}={ast.unparse(default)}')
        required += default is None
    if a.kwarg:
        shown.append(f'**{a.kwarg.arg}')
    return shown, required


def _names(node):
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)} | {
        n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)
    }


def _is_module_base(base, modules):
    """`nn.Module`, `torch.nn.Transformer`, `pl.LightningModule`, or a class of the file that is one."""
    text = ast.unparse(base)
    return text in modules or text.split('.')[-1].endswith('Module') or text.startswith(('nn.', 'torch.nn.'))


def model_classes(tree, is_module=None):
    """{name: {'line', 'params', 'required', 'uses'}} of the module-level nn.Module classes: those `is_module(name)`
    says
    are (the loader knows, having imported the file), else those whose bases look like one."""
    classes = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and (
            is_module(node.name) if is_module else any(_is_module_base(b, classes) for b in node.bases)
        ):
            init = next((n for n in node.body if isinstance(n, ast.FunctionDef) and n.name == '__init__'), None)
            params, required = _params(init.args, skip=1) if init else ([], 0)
            classes[node.name] = {'line': node.lineno, 'params': params, 'required': required, 'node': node}
    for name, c in classes.items():
        used = _names(c['node'])
        c['uses'] = {other for other in classes if other != name and other in used}
    return classes


def builder_functions(tree, classes):
    """Module-level functions without required parameters that return a new one of `classes` (`def ResNet18(): return
    ResNet(BasicBlock, [2, 2, 2, 2])`)."""
    out = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and not node.name.startswith('_'):
            params, required = _params(node.args)
            returned = {
                ast.unparse(n.value.func).split('.')[-1]
                for n in ast.walk(node)
                if isinstance(n, ast.Return) and isinstance(n.value, ast.Call)
            }
            if required == 0 and returned & set(classes):
                out[node.name] = {'line': node.lineno, 'params': params, 'required': 0}
    return out


def roots(classes):
    """The classes no other class uses, in file order."""
    used = set().union(*(c['uses'] for c in classes.values())) if classes else set()
    return [n for n in classes if n not in used]


def describe(name, info):
    return f'{name}({", ".join(info["params"])}) (line {info["line"]})'


def candidates(tree, is_module=None):
    """(the one root class or None, [{name, line, params, required, kind}]): the roots, and when several, the builder
    functions too."""
    classes = model_classes(tree, is_module)
    top = roots(classes)
    out = [
        {
            'name': n,
            'line': classes[n]['line'],
            'params': classes[n]['params'],
            'required': classes[n]['required'],
            'kind': 'class',
        }
        for n in top
    ]
    if len(top) > 1:
        out += [{'name': n, **info, 'kind': 'function'} for n, info in builder_functions(tree, classes).items()]
    return (top[0] if len(top) == 1 else None), out


def _defines_model_otherwise(tree, classes):
    """Whether a run finds the model before looking at classes: a module-level `model = ...`, a create_model()-style
    function, a spec naming the model, or an instance of one of the file's classes (`net = Net()`)."""
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name in BUILDER_NAMES:
            return True
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = {
                t.id
                for t in (node.targets if isinstance(node, ast.Assign) else [node.target])
                if isinstance(t, ast.Name)
            }
            value = node.value
            if 'model' in targets or isinstance(value, ast.Call) and ast.unparse(value.func).split('.')[-1] in classes:
                return True
            if (
                'normscope' in targets
                and isinstance(value, ast.Dict)
                and any(isinstance(k, ast.Constant) and k.value in ('model', 'args', 'kwargs') for k in value.keys)
            ):
                return True
    return False


def editor_candidates(tree):
    """The candidates the editor offers (lint.py's `models`): none when a run finds the model another way."""
    classes = model_classes(tree)
    return [] if _defines_model_otherwise(tree, classes) else candidates(tree)[1]
