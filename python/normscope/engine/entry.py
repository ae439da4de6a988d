"""Which layer a model's forward applies to its input first, read from the `ast` of forward.

The first *registered* layer is often not the first one used: word_language_model's TransformerModel subclasses
nn.Transformer, whose encoder layers (Linear inside attention) are registered before its `input_emb` Embedding, so
an input synthesised for the Linear feeds floats into the Embedding. forward says what happens to its argument:
follow it through calls of `self.x(arg)` (nested calls inner first, `self.a.b`, `self.blocks[0]`, a loop over
`self.blocks`), simple assignments (`x = arg`, `x = arg.view(...)`, `x = torch.flatten(arg, 1)`), and into the first
module it reaches: a custom one by its own forward, a Sequential by its first layer, a library module by its first
registered leaf.
"""

import ast
import inspect
import textwrap

import torch.nn as nn

# Calls on a tensor that give a number or a shape, not a tensor derived from it.
NOT_TENSORS = {'size', 'dim', 'numel', 'item', 'tolist', 'shape', 'ndim', 'dtype', 'device', 'len', 'isinstance'}
MAX_DEPTH = 8


def _forward_tree(cls):
    """(ast.FunctionDef of cls.forward, its first parameter after self) or (None, None)."""
    forward = getattr(cls, 'forward', None)
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(forward)))
    except (OSError, TypeError, SyntaxError, IndentationError):
        return None, None
    fn = tree.body[0] if tree.body and isinstance(tree.body[0], (ast.FunctionDef, ast.AsyncFunctionDef)) else None
    params = [a.arg for a in (fn.args.posonlyargs + fn.args.args)] if fn else []
    return (fn, params[1]) if len(params) > 1 else (None, None)


def _self_path(node):
    """`self.a.b` → ['a', 'b'], `self.blocks[0]` → ['blocks', 0], else None."""
    if isinstance(node, ast.Name):
        return [] if node.id == 'self' else None
    if isinstance(node, ast.Attribute):
        base = _self_path(node.value)
        return None if base is None else base + [node.attr]
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, int):
        base = _self_path(node.value)
        return None if base is None else base + [node.slice.value]
    return None


class _Follow:
    """Walks forward's statements in order, tracking the names that hold the input, until a self.<module> call takes
    one."""

    def __init__(self, first, is_module):
        self.tracked = {first}
        self.is_module = is_module  # whether a self.<path> is a module (not a method or a lambda: those pass it on)
        self.loops = {}  # loop variable → path of the module list it iterates (`for block in self.blocks`)

    def derives(self, node):
        """Whether `node` evaluates to the input or a tensor made from it without a module (view, flatten, x * 2)."""
        if isinstance(node, ast.Name):
            return node.id in self.tracked
        if isinstance(node, ast.Starred):
            return self.derives(node.value)
        if isinstance(node, ast.BinOp):
            return self.derives(node.left) or self.derives(node.right)
        if isinstance(node, ast.Subscript):
            return self.derives(node.value)
        if isinstance(node, ast.Call) and isinstance(node.func, (ast.Attribute, ast.Name)):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id
            receiver = node.func.value if isinstance(node.func, ast.Attribute) else None
            return name not in NOT_TENSORS and (
                receiver is not None and self.derives(receiver) or bool(node.args) and self.derives(node.args[0])
            )
        return False

    def module_call(self, node):
        """The path of the first self.<module> call in `node` (in evaluation order) that takes the input."""
        for child in ast.iter_child_nodes(node):
            found = self.module_call(child)
            if found is not None:
                return found
        if isinstance(node, ast.Call) and node.args and self.derives(node.args[0]):
            path = _self_path(node.func)
            if path and self.is_module(path):
                return path
            if (
                isinstance(node.func, ast.Name)
                and node.func.id in self.loops
                and self.is_module(self.loops[node.func.id] + [0])
            ):
                return self.loops[node.func.id] + [0]
        return None

    def statements(self, body):
        for stmt in body:
            if isinstance(stmt, (ast.For, ast.AsyncFor)) and isinstance(stmt.target, ast.Name):
                path = _self_path(stmt.iter)
                if path:
                    self.loops[stmt.target.id] = path
            if isinstance(stmt, (ast.If, ast.For, ast.AsyncFor, ast.While, ast.With, ast.Try)):
                found = self.module_call(getattr(stmt, 'test', None) or getattr(stmt, 'iter', None) or ast.Pass())
                found = found if found is not None else self.statements(stmt.body)
                if found is None and isinstance(stmt, ast.If):
                    found = self.statements(stmt.orelse)
            else:
                found = self.module_call(stmt)
            if found is not None:
                return found
            if isinstance(stmt, (ast.Assign, ast.AnnAssign)) and stmt.value is not None and self.derives(stmt.value):
                for target in stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]:
                    self.tracked |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
        return None


def _resolve(model, path):
    obj = model
    for part in path:
        try:
            obj = obj[part] if isinstance(part, int) else getattr(obj, part)
        except Exception:  # a user's __getattr__ may raise anything: then the path says nothing
            return None
    return obj if isinstance(obj, nn.Module) else None


def _decides(module):
    """A module whose construction says something about its input; a leaf without parameters (padding, dropout, an
    activation, pooling) passes the input on to the next one."""
    return module is not None and (
        any(True for _ in module.children()) or any(True for _ in module.parameters(recurse=False))
    )


def first_layer(model, is_user_class, depth=0):
    """(the module forward applies to its input first, its path from `model`) or (None, None): a leaf, or a library
    module other than Sequential (nn.TransformerEncoder), whose own first registered layer then decides."""
    children = list(model.children())
    if not children or not is_user_class(type(model)) and not isinstance(model, nn.Sequential):
        return model, ''
    if depth > MAX_DEPTH:
        return None, None
    if isinstance(model, nn.Sequential):
        path, sub = [0], children[0]
    else:
        fn, first = _forward_tree(type(model))
        path = _Follow(first, lambda p: _decides(_resolve(model, p))).statements(fn.body) if fn else None
        sub = _resolve(model, path) if path else None
        if sub is None:
            return None, None
    found, rest = first_layer(sub, is_user_class, depth + 1)
    if found is None:
        return None, None
    return found, '.'.join(str(p) for p in path) + (f'.{rest}' if rest else '')
