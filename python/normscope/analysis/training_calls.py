"""Where a training script trains, for the editor's "Check training script" lens (lint.py's `trainingCalls`), with
Python's own `ast`. Real scripts often keep the loop in a helper (torchvision's references: `train_one_epoch(...)`
imported `from engine import ...`, called from `main()` under `if __name__ == "__main__":`), so the file's run is
followed: its module-level statements and `__main__` block, the functions of the file they call or pass on
(`fire.Fire(main)`, `mp.spawn(worker)`), and the functions of modules next to it that those call.

The lens goes on the line of this file nearest to the optimizer step, one lens per place that trains:
- each `opt.step()` on an optimizer the file builds, else each `x.backward()`, that the run reaches (calls inside a
  loop win), as before;
- each call of a function from a neighbouring module that steps an optimizer or calls `backward()` (itself or through
  what it calls, up to DEPTH levels): `train_one_epoch(...)` in train.py's epoch loop.
Calls of the file's own functions (`main()`, `train(...)`) get none: their bodies carry the lens, so one loop shows one.
When that finds nothing (a loop that only AMP's `scaler.scale(loss).backward()` marks), the entry's calls of the
file's own training functions get it. A file whose run trains nothing (engine.py: only definitions) gets no lens,
unless it has a `__main__` block, which may reach its loop in ways not followed here (a dict of commands): then the
whole file is searched, as before."""

import ast
import os

from .torch_calls import Imports, dotted, torch_calls

DEPTH = 4  # script → main() → train() → train_one_epoch() → train_step(): deeper chains are rare


def _module_file(base, name):
    """`name` (dotted, may be empty: the package itself) as a file under `base`, if it exists."""
    path = os.path.join(base, *name.split('.')) if name else base
    return next((f for f in (path + '.py', os.path.join(path, '__init__.py')) if os.path.isfile(f)), None)


def _optimizer_like(receiver, built):
    last = (receiver or '').rpartition('.')[2].lower()
    return receiver in built or 'optim' in last or last == 'opt' or last.startswith('opt_') or last.endswith('_opt')


def _built_optimizers(tree):
    """Names assigned an optimizer this file builds (`opt = torch.optim.SGD(...)`, also `self.opt = ...`)."""
    imports = Imports()
    imports.visit(tree)
    built = {id(c['node']) for c in torch_calls(tree, imports) if c['kind'] == 'optim' and c['className'][:1].isupper()}
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and id(node.value) in built:
            names |= {dotted(t) for t in (node.targets if isinstance(node, ast.Assign) else [node.target])} - {None}
    return names


class Module:
    """One parsed file: its functions, classes and methods by name, and what its imports bind."""

    def __init__(self, path, tree, root):
        self.path, self.tree = path, tree
        self.functions = {n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
        self.classes = {
            n.name: {m.name: m for m in n.body if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef))}
            for n in tree.body
            if isinstance(n, ast.ClassDef)
        }
        self.methods = {}
        for methods in self.classes.values():
            for name, node in methods.items():
                self.methods.setdefault(name, []).append(node)
        self.optimizers = _built_optimizers(tree)
        self.names = {}  # `from engine import train_one_epoch as t` → {'t': (engine.py, 'train_one_epoch')}
        self.modules = {}  # `import engine`, `from . import engine` → {'engine': engine.py}
        here = os.path.dirname(path)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    found = _module_file(root, a.name)
                    if found:
                        self.modules[a.asname or a.name] = found
            elif isinstance(node, ast.ImportFrom):
                base = root if node.level == 0 else os.path.normpath(os.path.join(here, *['..'] * (node.level - 1)))
                module = node.module or ''
                target = _module_file(base, module)
                for a in node.names:
                    sub = _module_file(base, f'{module}.{a.name}' if module else a.name)
                    if sub:
                        self.modules[a.asname or a.name] = sub
                    elif target:
                        self.names[a.asname or a.name] = (target, a.name)


class Graph:
    """The script's module and the neighbouring modules its calls lead to, parsed once each."""

    def __init__(self, path, tree):
        self.root = os.path.dirname(path)
        self.modules = {path: Module(path, tree, self.root)}
        self.memo = {}
        self.active = set()

    def module(self, path):
        if path not in self.modules:
            try:
                with open(path, encoding='utf-8') as f:
                    self.modules[path] = Module(path, ast.parse(f.read(), filename=path), self.root)
            except (OSError, SyntaxError, ValueError, UnicodeDecodeError):
                self.modules[path] = None  # unreadable: it trains nothing we can see
        return self.modules[path]

    def exported(self, mod, name, hops=0):
        """[(module, function)] that `name` of `mod` runs when called: a function, a class's __init__, or a name the
        module re-exports (`from .loops import fit` in a package's __init__.py)."""
        if mod is None or hops > DEPTH:
            return []
        if name in mod.functions:
            return [(mod, mod.functions[name])]
        if name in mod.classes:
            return [(mod, f) for f in [mod.classes[name].get('__init__')] if f]
        if name in mod.names:
            path, attr = mod.names[name]
            return self.exported(self.module(path), attr, hops + 1)
        return []

    def targets(self, mod, func):
        """[(module, function)] a call of `func` in `mod` may run, as far as the source says."""
        if isinstance(func, ast.Name):
            return self.exported(mod, func.id)
        if isinstance(func, ast.Attribute):
            prefix = dotted(func.value)
            if prefix in mod.modules:
                return self.exported(self.module(mod.modules[prefix]), func.attr)
            return [(mod, f) for f in mod.methods.get(func.attr, [])]
        return []

    def trains(self, mod, fn, depth=0):
        """Whether `fn` steps an optimizer or calls backward(), itself or through its calls (up to DEPTH levels)."""
        key = (id(fn), depth)
        if key in self.memo or id(fn) in self.active:
            return self.memo.get(key, False)
        self.active.add(id(fn))
        calls = [n for n in ast.walk(fn) if isinstance(n, ast.Call)]
        found = (
            any(_is_training(mod, n) for n in calls)
            or depth < DEPTH
            and any(self.trains(m, f, depth + 1) for n in calls for m, f in self.targets(mod, n.func))
        )
        self.active.discard(id(fn))
        self.memo[key] = found
        return found


def _is_training(mod, call):
    if not isinstance(call.func, ast.Attribute):
        return False
    if call.func.attr == 'backward':
        return True
    return call.func.attr == 'step' and _optimizer_like(dotted(call.func.value), mod.optimizers)


def _is_main_guard(node):
    test = node.test if isinstance(node, ast.If) else None
    return (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == '__name__'
        and any(isinstance(c, ast.Constant) and c.value == '__main__' for c in test.comparators)
    )


def _direct(nodes, optimizers, loops):
    """Today's rule on `nodes`: steps of a built optimizer, else backward() calls; those inside a loop win."""

    def found(method, receiver_ok):
        out = [
            n
            for n in nodes
            if isinstance(n, ast.Call)
            and isinstance(n.func, ast.Attribute)
            and n.func.attr == method
            and receiver_ok(dotted(n.func.value))
        ]
        return [n for n in out if id(n) in loops] or out

    return found('step', lambda r: r in optimizers) or found('backward', lambda r: r is not None)


def training_calls(tree, path):
    """(the lens calls, the neighbouring module files read to place them: the editor re-lints when one changes)."""
    graph = Graph(path, tree)
    mod = graph.modules[path]
    loops = {
        id(n) for loop in ast.walk(tree) if isinstance(loop, (ast.For, ast.While, ast.AsyncFor)) for n in ast.walk(loop)
    }
    defs = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom)
    entry = [s for s in tree.body if not isinstance(s, defs)]
    # What the run executes: the entry statements and every function of this file they reach, called or passed on.
    region, reached, todo = [], set(), list(entry)
    while todo:
        for n in ast.walk(todo.pop()):
            region.append(n)
            found = (
                graph.targets(mod, n.func)
                if isinstance(n, ast.Call)
                else graph.exported(mod, n.id)
                if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
                else []
            )
            for m, f in found:
                if m is mod and id(f) not in reached:
                    reached.add(id(f))
                    todo.append(f)
    # (call, the neighbouring module it trains in; None for a step/backward line or a call of this file's function)
    picked = [(n, None) for n in _direct(region, mod.optimizers, loops)]
    for n in region:
        if isinstance(n, ast.Call):
            helpers = [m for m, f in graph.targets(mod, n.func) if m is not mod and graph.trains(m, f)]
            if helpers:
                picked.append((n, helpers[0].path))
    if not picked:
        picked = [
            (n, None)
            for s in entry
            for n in ast.walk(s)
            if isinstance(n, ast.Call) and any(graph.trains(m, f) for m, f in graph.targets(mod, n.func))
        ]
    if not picked and any(_is_main_guard(s) for s in tree.body):
        picked = [(n, None) for n in _direct(list(ast.walk(tree)), mod.optimizers, loops)]
    out = {}
    for n, via in picked:
        call = {'line': n.lineno, 'column': n.col_offset + 1}
        if via is None and isinstance(n.func, ast.Attribute) and n.func.attr in ('step', 'backward'):
            call.update(receiver=dotted(n.func.value), method=n.func.attr)
        else:
            call.update(receiver=dotted(n.func) or getattr(n.func, 'attr', '?'), method='call')
        if via:
            call['module'] = os.path.relpath(via, graph.root)
        out[(n.lineno, n.col_offset)] = call
    return [out[k] for k in sorted(out)], sorted(p for p in graph.modules if p != path)
