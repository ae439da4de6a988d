"""Creation lines of modules built before `watch()` was called.

The engine records each module's line as it is built (measuring/creation.py wraps nn.Module.__init__), but a watcher
starts after
the user's model exists, and the frames that built it are gone. So the line is found in the source instead: a layer is
an attribute its owner's `__init__` assigned (`self.act2 = nn.ReLU()`), or an argument of a container built there
(`self.features = nn.Sequential(nn.Conv2d(...), nn.ReLU())`, item k of a list). The owner is the nearest module up
the layer's path whose class is defined in the project's files; its class's source is parsed once (ast), and the
layer's call is found by attribute name, then by position among the container's arguments. A layer built elsewhere
(a helper's loop, torchvision's own classes) gets no line, as an unknown line is better than a wrong one.
Modules that creation.py recorded (NormScope's own runs) keep their recorded line."""

import ast
import inspect
import os
import textwrap

from ..measuring import creation

_parsed = {}  # class → {attribute: assigned ast node} of its __init__, with the file and line offset


def _user_class_file(cls, root):
    try:
        file = inspect.getsourcefile(cls)
    except (TypeError, OSError):
        return None
    if not file:
        return None
    file = os.path.abspath(file)
    parts = file.split(os.sep)
    if 'site-packages' in parts or 'dist-packages' in parts or not file.startswith(root.rstrip(os.sep) + os.sep):
        return None
    return file


def _assignments(cls, root):
    """{attribute: value node} of `self.<attribute> = …` in cls.__init__, and (file, first line) of its source."""
    if cls in _parsed:
        return _parsed[cls]
    found = None
    file = _user_class_file(cls, root)
    init = cls.__dict__.get('__init__')
    if file and init is not None:
        try:
            lines, first = inspect.getsourcelines(init)
            tree = ast.parse(textwrap.dedent(''.join(lines)))
            indent = len(lines[0]) - len(lines[0].lstrip())
            table = {}
            for node in ast.walk(tree):
                if not isinstance(node, (ast.Assign, ast.AnnAssign)) or node.value is None:
                    continue
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for t in targets:
                    for target, value in _pairs(t, node.value):
                        if (
                            isinstance(target, ast.Attribute)
                            and isinstance(target.value, ast.Name)
                            and target.value.id == 'self'
                        ):
                            table.setdefault(target.attr, value)
            found = (table, file, first - 1, indent)
        except (OSError, TypeError, SyntaxError, IndentationError):
            found = None
    _parsed[cls] = found
    return found


def _pairs(target, value):
    """(target, value) of an assignment, element by element for `self.conv, self.bn = nn.Conv2d(...),
    nn.BatchNorm2d(...)`."""
    if value is None:
        return []
    if isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple) and len(target.elts) == len(value.elts):
        return list(zip(target.elts, value.elts))
    return [(target, value)]


def _item(node, index):
    """The call building item `index` of a container expression: nn.Sequential(a, b) or [a, b] / nn.ModuleList([a,
    b])."""
    if index is None:
        return node
    if isinstance(node, ast.Call):
        args = (
            node.args[0].elts if len(node.args) == 1 and isinstance(node.args[0], (ast.List, ast.Tuple)) else node.args
        )
    elif isinstance(node, (ast.List, ast.Tuple)):
        args = node.elts
    else:
        return None
    return args[index] if index < len(args) and isinstance(args[index], ast.Call) else None


def _locate(model, path, root):
    """{file, line, column} of the call that built the module at dotted `path` in `model`, or None."""
    parts = path.split('.')
    modules = dict(model.named_modules())
    for cut in range(len(parts) - 1, -1, -1):  # the nearest owner first
        owner = modules.get('.'.join(parts[:cut]))
        rest = parts[cut:]
        if owner is None or len(rest) > 2 or (len(rest) == 2 and not rest[1].isdigit()):
            continue
        table = _assignments(type(owner), root)
        if table is None or rest[0] not in table[0]:
            continue
        node = _item(table[0][rest[0]], int(rest[1]) if len(rest) == 2 else None)
        if node is None:
            return None
        _, file, offset, indent = table
        return {'file': file, 'line': node.lineno + offset, 'column': node.col_offset + indent + 1}
    return None


def sources(models, root):
    """{id(module): source} of every module of `models` ([(model)]) without a recorded creation line."""
    out = {}
    root = os.path.abspath(root)
    for model in models:
        for path, module in model.named_modules():
            if path and id(module) not in out and creation.source_of(module) is None:
                out[id(module)] = _locate(model, path, root)
    return out
