"""The torch calls of a source file, with Python's own `ast` — what every static rule (lint.py, lint_norms.py),
training_calls.py and the refactorings (swap.py, weightnorm.py) read: which names mean torch.nn / torch.optim
(`Imports`), each call of a class from them (`torch_calls`), the ordered layers of each nn.Sequential or function body
(`layer_stacks`), and the layer classes the rules tell apart."""

import ast

BATCH_NORMS = {'BatchNorm1d', 'BatchNorm2d', 'BatchNorm3d', 'SyncBatchNorm'}
NORMS = BATCH_NORMS | {'LayerNorm', 'GroupNorm', 'InstanceNorm1d', 'InstanceNorm2d', 'InstanceNorm3d', 'RMSNorm'}
RECURRENT = {'RNN', 'LSTM', 'GRU'}
CONVS = {'Conv1d', 'Conv2d', 'Conv3d', 'ConvTranspose1d', 'ConvTranspose2d', 'ConvTranspose3d'}
WEIGHTS = CONVS | RECURRENT | {'Linear', 'Bilinear'}
# Layers that do not change which layer a norm "follows".
PASS_THROUGH = {
    'ReLU',
    'ReLU6',
    'LeakyReLU',
    'GELU',
    'SiLU',
    'ELU',
    'Tanh',
    'Sigmoid',
    'Dropout',
    'Dropout1d',
    'Dropout2d',
    'Dropout3d',
    'MaxPool1d',
    'MaxPool2d',
    'MaxPool3d',
    'AvgPool1d',
    'AvgPool2d',
    'AvgPool3d',
    'Identity',
}
OPTIMIZERS = {'SGD', 'Adam', 'AdamW', 'RMSprop', 'Adagrad', 'NAdam', 'RAdam'}


def dotted(node):
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = dotted(node.value)
        return f'{base}.{node.attr}' if base else None
    return None


class Imports(ast.NodeVisitor):
    """Which dotted prefixes mean torch.nn / torch.optim, and bare names imported from them."""

    def __init__(self):
        self.prefixes = {'torch.nn': 'nn', 'torch.optim': 'optim'}
        self.bare = {}

    def visit_Import(self, node):
        for a in node.names:
            if a.name in ('torch.nn', 'torch.optim'):
                self.prefixes[a.asname or a.name] = a.name.split('.')[1]
            elif a.name == 'torch' and a.asname:
                self.prefixes[f'{a.asname}.nn'] = 'nn'
                self.prefixes[f'{a.asname}.optim'] = 'optim'

    def visit_ImportFrom(self, node):
        for a in node.names:
            if node.module == 'torch' and a.name in ('nn', 'optim'):
                self.prefixes[a.asname or a.name] = a.name
            elif node.module in ('torch.nn', 'torch.optim'):
                self.bare[a.asname or a.name] = (node.module.split('.')[1], a.name)

    def resolve(self, callee):
        """('nn' | 'optim', class name) or None."""
        if callee in self.bare:
            return self.bare[callee]
        prefix, _, name = callee.rpartition('.')
        kind = self.prefixes.get(prefix)
        return (kind, name) if kind else None


def torch_calls(tree, imports):
    """Every call of a torch.nn / torch.optim class in `tree`, in source order, as dicts (node, kind, className,
    callee, line, column)."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            callee = dotted(node.func)
            resolved = callee and imports.resolve(callee)
            if resolved:
                out.append(
                    {
                        'node': node,
                        'kind': resolved[0],
                        'className': resolved[1],
                        'callee': callee,
                        'line': node.lineno,
                        'column': node.col_offset + 1,
                    }
                )
    return sorted(out, key=lambda c: (c['line'], c['column']))


def layer_stacks(tree, calls):
    """The ordered nn calls of each nn.Sequential(...) and of each function body (containers left out)."""
    by_node = {id(c['node']): c for c in calls}
    stacks = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and id(node) in by_node and by_node[id(node)]['className'] == 'Sequential':
            stacks.append([by_node[id(a)] for a in node.args if id(a) in by_node])
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            inner = {id(n) for n in ast.walk(node)}
            stacks.append([c for c in calls if id(c['node']) in inner and c['kind'] == 'nn'])
    return [[c for c in s if c['className'] not in ('Sequential', 'ModuleList', 'ModuleDict')] for s in stacks]


def finding(path, call, kind, severity, message, fix, refactor=None, line=None, column=None):
    """A static finding in the shape of src/protocol (Finding), at `call` or at `line`/`column`."""
    out = {
        'kind': kind,
        'severity': severity,
        'layer': None,
        'step': None,
        'message': message,
        'fix': fix,
        'source': {'file': path, 'line': line or call['line'], 'column': column or call['column']},
    }
    if refactor:
        out['refactor'] = refactor
    return out
