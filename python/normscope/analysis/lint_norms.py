"""The weight-decay-on-norm rule (`l2-before-norm`) of lint.py: an optimizer built on `model.parameters()` with weight
decay also decays the γ and β of every norm layer in the model. Norm layers are the file's nn.*Norm calls, and the
LayerNorms that nn.Transformer, nn.TransformerEncoderLayer and nn.TransformerDecoderLayer build inside themselves —
called, or subclassed (word_language_model's `class TransformerModel(nn.Transformer)`). A file that builds no norm
itself (a training script) is followed to the class its optimizer trains, in a module next to it
(`model = model.TransformerModel(...)` after `import model`), as training_calls.py follows training helpers."""

import ast
import os

from .torch_calls import NORMS, OPTIMIZERS, Imports, dotted, finding, torch_calls
from .training_calls import Module

TRANSFORMER_LAYERS = ('Transformer', 'TransformerEncoderLayer', 'TransformerDecoderLayer')


def norm_builders(tree, imports, scope=None):
    """What builds norm layers in `scope` (a class node; the whole tree by default): (the count of nn.*Norm calls, the
    norm layers built inside others: ['the LayerNorms inside nn.TransformerEncoderLayer (line 12)', ...])."""
    scope = scope or tree
    calls = [c for c in torch_calls(scope, imports) if c['kind'] == 'nn']
    count = sum(c['className'] in NORMS for c in calls)
    out = [
        f'the LayerNorms inside nn.{c["className"]} (line {c["line"]})'
        for c in calls
        if c['className'] in TRANSFORMER_LAYERS
    ]
    for cls in (n for n in ast.walk(scope) if isinstance(n, ast.ClassDef)):
        for base in cls.bases:
            resolved = dotted(base) and imports.resolve(dotted(base))
            if resolved and resolved[0] == 'nn' and resolved[1] in TRANSFORMER_LAYERS:
                out.append(f'the LayerNorms of nn.{resolved[1]}, the base of {cls.name} (line {cls.lineno})')
    return count, out


def _describe(count, inside, where):
    if not inside:
        return f'the {count} normalization layer(s) {where}'
    return f'the normalization layers {where}: {"; ".join(([f"{count} nn.*Norm layer(s)"] if count else []) + inside)}'


def _class_norms(path, name):
    """norm_builders of class `name` of the module at `path` and of the classes of that module it uses."""
    try:
        with open(path, encoding='utf-8') as f:
            tree = ast.parse(f.read(), filename=path)
    except (OSError, SyntaxError, ValueError, UnicodeDecodeError):
        return 0, []
    imports = Imports()
    imports.visit(tree)
    classes = {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}
    seen, todo, count, inside = set(), [name], 0, []
    while todo:
        cls = classes.get(todo.pop())
        if cls is None or cls.name in seen:
            continue
        seen.add(cls.name)
        n, more = norm_builders(tree, imports, cls)
        count, inside = count + n, inside + more
        todo += [n.id for n in ast.walk(cls) if isinstance(n, ast.Name) and n.id in classes]
    return count, inside


def _trained_class(tree, path, receiver):
    """(module file, class name) of `receiver = Class(...)` / `receiver = module.Class(...)` built from a module next to
    `path`, or None."""
    mod = Module(path, tree, os.path.dirname(path))
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Call)
            and receiver in {dotted(t) for t in node.targets}
        ):
            callee = dotted(node.value.func) or ''
            prefix, _, name = callee.rpartition('.')
            if not prefix and name in mod.names:
                return mod.names[name]
            if prefix in mod.modules:
                return mod.modules[prefix], name
    return None


def weight_decay(path, tree, imports, calls, dependencies=None):
    here = norm_builders(tree, imports)
    out = []
    for c in calls:
        if c['kind'] != 'optim' or c['className'] not in OPTIMIZERS:
            continue
        node = c['node']
        decay = next((k.value for k in node.keywords if k.arg == 'weight_decay'), None)
        value = decay.value if isinstance(decay, ast.Constant) else None
        if decay is None and c['className'] != 'AdamW' or value == 0:
            continue
        first = node.args[0] if node.args else None
        if not (
            isinstance(first, ast.Call) and isinstance(first.func, ast.Attribute) and first.func.attr == 'parameters'
        ):
            continue  # param groups: the user may already exclude norm parameters
        (count, inside), where = here, 'in this file'
        if not count and not inside:
            trained = _trained_class(tree, path, dotted(first.func.value))
            count, inside = _class_norms(*trained) if trained else (0, [])
            if trained and dependencies is not None:
                dependencies.append(trained[0])
            where = f'of the {trained[1]} it trains ({os.path.basename(trained[0])})' if trained else ''
        if not count and not inside:
            continue
        shown = (
            f'weight_decay={value}'
            if value is not None
            else ("AdamW's default weight_decay=0.01" if decay is None else 'weight_decay')
        )
        out.append(
            finding(
                path,
                c,
                'l2-before-norm',
                'warning',
                f'{c["className"]}({dotted(first.func)}(), {shown}) also decays the scale γ and shift β of '
                f'{_describe(count, inside, where)}. '
                "Decaying γ pulls the norm layers' output toward 0 while the weights before a norm are "
                'scale-invariant, so the decay mostly changes the effective learning rate.',
                'Put the norm parameters (and biases) in a parameter group with weight_decay=0.',
            )
        )
    return out
