"""Swap the normalization created on one line of a PyTorch file, found with `ast`, with argument translation:
`python -m normscope.refactor.swap <file> <line> <to>` prints {"newText", "description"} or {"error"} as JSON.
Feature maps (BatchNorm2d/3d, GroupNorm, InstanceNorm2d/3d) and vectors (BatchNorm1d, LayerNorm(C)) translate
differently: LayerNorm over a feature map is GroupNorm(1, C) (it needs no H, W), RMSNorm is offered for vectors;
on a torch without nn.RMSNorm (before 2.4) a small RMSNorm module is inserted after the imports. `weightNorm`
reparameterizes the weight layer instead (./weightnorm.py)."""

import ast
import json
import os
import sys

from ..analysis.torch_calls import Imports, dotted
from ..measuring.features import has_rmsnorm
from .weightnorm import weight_norm

KINDS = ('batchNorm', 'layerNorm', 'groupNorm', 'rmsNorm', 'instanceNorm', 'weightNorm')
MAP_NORMS = {'BatchNorm2d': 2, 'BatchNorm3d': 3, 'InstanceNorm2d': 2, 'InstanceNorm3d': 3, 'GroupNorm': 2}
VECTOR_NORMS = {'BatchNorm1d', 'LayerNorm', 'RMSNorm', 'InstanceNorm1d'}
CHANNEL_KEYWORDS = ('num_features', 'num_channels', 'normalized_shape')
KEEP_KEYWORDS = ('eps',)
RMSNORM_MODULE = '''
import torch
import torch.nn as nn


class RMSNorm(nn.Module):
    """RMSNorm (Zhang & Sennrich 2019) for torch versions without nn.RMSNorm: x / rms(x) * weight over the last dim."""

    def __init__(self, dim, eps=1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight
'''


class SwapError(Exception):
    pass


class NoNormAtLine(SwapError):
    """The line has no normalization call at all (not a candidate that does not fit it): a what-if run's
    `no-norm-at-line`, which stops a comparison at its first candidate."""


def _norm_call(tree, imports, line):
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.lineno <= line <= node.end_lineno:
            callee = dotted(node.func)
            resolved = callee and imports.resolve(callee)
            if resolved and resolved[0] == 'nn' and resolved[1] in set(MAP_NORMS) | VECTOR_NORMS:
                found.append((node, callee, resolved[1]))
    if not found:
        raise NoNormAtLine(
            f'line {line} has no torch.nn normalization call (BatchNorm*, LayerNorm, GroupNorm, InstanceNorm*, RMSNorm)'
        )
    return min(found, key=lambda f: (f[0].end_lineno - f[0].lineno, f[0].col_offset))


def _segment(text, node):
    return ast.get_source_segment(text, node)


def _channels(text, node, cls):
    """Source text of the channel count."""
    kw = {k.arg: k.value for k in node.keywords}
    if cls == 'GroupNorm':
        arg = node.args[1] if len(node.args) > 1 else kw.get('num_channels')
    else:
        arg = node.args[0] if node.args else next((kw[k] for k in CHANNEL_KEYWORDS if k in kw), None)
    if arg is None:
        raise SwapError(f'{cls}(...) on this line has no channel count to translate')
    if cls == 'LayerNorm' and isinstance(arg, (ast.List, ast.Tuple)):
        if len(arg.elts) != 1:
            raise SwapError('LayerNorm over several dimensions: the channel count is ambiguous; edit it by hand')
        arg = arg.elts[0]
    return _segment(text, arg), arg


def _groups(channels_node):
    """Groups for GroupNorm: 32 (Wu & He 2018) or the largest divisor of a literal channel count at most 32."""
    c = (
        channels_node.value
        if isinstance(channels_node, ast.Constant) and isinstance(channels_node.value, int)
        else None
    )
    if c is None:
        return None
    return max(g for g in range(1, min(32, c) + 1) if c % g == 0)


def _has_rmsnorm():
    try:
        return has_rmsnorm()
    except ImportError:  # swap runs on any Python 3; without torch, emit the module
        return False


def swap(text, line, to, inline=False):
    """(new text, description). `inline` (what-if runs) adds no lines, so every creating line stays where it was:
    the caller provides `math` and `RMSNorm` in the module's namespace instead."""
    if to not in KINDS:
        raise SwapError(f"unknown normalization '{to}'; use one of {', '.join(KINDS)}")
    tree = ast.parse(text)
    imports = Imports()
    imports.visit(tree)
    if to == 'weightNorm':
        try:
            norm = _norm_call(tree, imports, line)
        except SwapError:
            norm = None  # a Linear/Conv line: wrap that layer
        return weight_norm(text, tree, imports, line, norm, SwapError)
    node, callee, cls = _norm_call(tree, imports, line)
    prefix = callee[: -len(cls)] if callee.endswith(cls) and callee != cls else 'nn.'
    channels, channels_node = _channels(text, node, cls)
    dims = MAP_NORMS.get(cls)
    extra = ''.join(f', {k.arg}={_segment(text, k.value)}' for k in node.keywords if k.arg in KEEP_KEYWORDS)
    insert_rmsnorm = False
    if to == 'batchNorm':
        new = f'{prefix}BatchNorm{dims or 1}d({channels}{extra})'
    elif to == 'layerNorm':
        new = f'{prefix}GroupNorm(1, {channels}{extra})' if dims else f'{prefix}LayerNorm({channels}{extra})'
    elif to == 'groupNorm':
        if not dims:
            raise SwapError(f'{cls} normalizes vectors; GroupNorm is for feature maps (use layerNorm)')
        groups = _groups(channels_node)
        new = f'{prefix}GroupNorm({groups if groups else f"math.gcd(32, {channels})"}, {channels}{extra})'
    elif to == 'instanceNorm':
        if not dims:
            raise SwapError(f'{cls} normalizes vectors; InstanceNorm needs a feature map')
        new = f'{prefix}InstanceNorm{dims}d({channels}, affine=True{extra})'
    else:
        if dims:
            raise SwapError(
                f'{cls} normalizes feature maps; RMSNorm normalizes the last dimension (use it for vectors)'
            )
        if _has_rmsnorm():
            new = f'{prefix}RMSNorm({channels}{extra})'
        else:
            new = f'RMSNorm({channels}{extra})'
            insert_rmsnorm = 'RMSNorm' not in {n.name for n in tree.body if isinstance(n, ast.ClassDef)}
    lines = text.splitlines(keepends=True)

    def offset(lineno, col):  # ast columns count UTF-8 bytes
        return sum(len(line) for line in lines[: lineno - 1]) + len(
            lines[lineno - 1].encode('utf-8')[:col].decode('utf-8')
        )

    start, end = offset(node.lineno, node.col_offset), offset(node.end_lineno, node.end_col_offset)
    new_text = text[:start] + new + text[end:]
    if inline:
        return new_text, f'line {line}: {_segment(text, node)} → {new}'
    if 'math.gcd' in new and 'math' not in {
        a.asname or a.name for n in tree.body if isinstance(n, ast.Import) for a in n.names
    }:
        new_text = 'import math\n' + new_text
    if insert_rmsnorm:
        last_import = max(n.end_lineno for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom)))
        out = new_text.splitlines(keepends=True)
        torch_imported = any(
            a.name == 'torch' and not a.asname for n in tree.body if isinstance(n, ast.Import) for a in n.names
        )
        module = (
            ('' if torch_imported else '\nimport torch\n')
            + RMSNORM_MODULE.split('import torch.nn as nn\n', 1)[1]
            + '\n'
        )
        new_text = ''.join(out[:last_import]) + module + ''.join(out[last_import:])
    return new_text, f'line {line}: {_segment(text, node)} → {new}' + (
        ' (RMSNorm module added after the imports)' if insert_rmsnorm else ''
    )


def main():
    path, line, to = os.path.abspath(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    try:
        with open(path, encoding='utf-8') as f:
            text = f.read()
        new_text, description = swap(text, line, to)
    except (SwapError, SyntaxError, OSError) as e:
        print(json.dumps({'error': f'{os.path.basename(path)}:{line}: {e}'}))
        return
    print(json.dumps({'newText': new_text, 'description': description}))


if __name__ == '__main__':
    main()
