"""Weight normalization (Salimans & Kingma 2016, w = g · v/‖v‖ per output unit) as a swap target on PyTorch source.
On a Linear/Conv line it wraps that layer; on a norm line it wraps the weight layer before the norm (as the tfjs
"Wrap in WeightNormalization" refactor wraps a Dense/Conv) and turns the norm into nn.Identity(), so the
attribute and forward() stay valid and every creating line stays where it was. `bias=False` on the wrapped layer
is dropped: the removed norm's β was its shift."""

import ast

from ..analysis.torch_calls import PASS_THROUGH, layer_stacks, torch_calls
from ..measuring.features import weight_norm_api

WEIGHT_NORMABLE = ('Linear', 'Conv1d', 'Conv2d', 'Conv3d')
PARAMETRIZED = 'utils.parametrizations.weight_norm'
LEGACY = 'utils.weight_norm'
LEGACY_NOTE = '  # this torch has no nn.utils.parametrizations.weight_norm (2.1+): the older nn.utils.weight_norm'


class Spans:
    """Character offsets of ast nodes (whose columns count UTF-8 bytes)."""

    def __init__(self, text):
        self.text = text
        self.lines = text.splitlines(keepends=True)

    def at(self, lineno, col):
        return sum(len(line) for line in self.lines[: lineno - 1]) + len(
            self.lines[lineno - 1].encode('utf-8')[:col].decode('utf-8')
        )

    def start(self, node):
        return self.at(node.lineno, node.col_offset)

    def end(self, node):
        return self.at(node.end_lineno, node.end_col_offset)

    def line_end(self, lineno):
        return self.at(lineno, len(self.lines[lineno - 1].rstrip('\r\n').encode('utf-8')))


def _nn_prefix(callee, cls):
    """`nn.` / `torch.nn.` as the file spells torch.nn on this call, or None for a bare imported name."""
    return callee[: -len(cls)] if callee.endswith(cls) and callee != cls else None


def _wrapped(tree, node):
    """Whether `node` already is the argument of a `...weight_norm(...)` call."""
    for n in ast.walk(tree):
        if isinstance(n, ast.Call) and node in n.args and ast.unparse(n.func).endswith('weight_norm'):
            return True
    return False


def _drop_bias_false(spans, node):
    """The edit deleting a `bias=False` keyword with its comma, or None."""
    args = [*node.args, *node.keywords]
    for i, k in enumerate(args):
        if (
            isinstance(k, ast.keyword)
            and k.arg == 'bias'
            and isinstance(k.value, ast.Constant)
            and k.value.value is False
        ):
            if i > 0:
                return (spans.end(args[i - 1]), spans.end(k), '')
            return (spans.start(k), spans.start(args[1]) if len(args) > 1 else spans.end(k), '')
    return None


def _weight_layer(tree, imports, line, norm):
    """The Linear/Conv call to wrap: on the line itself, else the one before the norm on that line."""
    calls = [c for c in torch_calls(tree, imports) if c['kind'] == 'nn']
    own = [c for c in calls if c['className'] in WEIGHT_NORMABLE and c['node'].lineno <= line <= c['node'].end_lineno]
    if norm is None:
        return own[0] if own else None, None
    stacks = [s for s in layer_stacks(tree, calls) if any(c['node'] is norm for c in s)]
    if not stacks:
        return None, None
    stack = min(stacks, key=len)  # the nn.Sequential(...) it is in, else its function
    i = next(k for k, c in enumerate(stack) if c['node'] is norm)
    prev = next((c for c in reversed(stack[:i]) if c['className'] not in PASS_THROUGH), None)
    return prev, stack[i]


def weight_norm(text, tree, imports, line, norm_call, error):
    """(new text, description). `norm_call` is (node, callee, class) of the norm on the line, or None; `error`
    makes the exception to raise with a message."""
    norm = norm_call[0] if norm_call else None
    weight, norm_info = _weight_layer(tree, imports, line, norm)
    if weight is None or weight['className'] not in WEIGHT_NORMABLE:
        what = (
            f'the layer before this {norm_call[2]} is {weight["className"]} (line {weight["line"]})'
            if weight
            else 'no Linear/Conv layer'
        )
        raise error(
            f'{what}; weight norm reparameterizes the weights of a {", ".join(WEIGHT_NORMABLE)} layer'
            + (
                ' (is the norm before its weight layer, as in a pre-activation block?)'
                if norm_call
                else ' on this line'
            )
        )
    node = weight['node']
    if _wrapped(tree, node):
        raise error(f'the {weight["className"]} on line {node.lineno} is already wrapped in weight_norm')
    api, _ = weight_norm_api()
    prefix = _nn_prefix(weight['callee'], weight['className'])
    add_import = prefix is None and not any(
        a.name == 'torch' and not a.asname for n in tree.body if isinstance(n, ast.Import) for a in n.names
    )
    prefix = prefix or 'torch.nn.'
    wrapper = prefix + (PARAMETRIZED if api == 'parametrizations' else LEGACY)
    spans = Spans(text)
    edits = [(spans.start(node), spans.start(node), f'{wrapper}(')]
    drop = _drop_bias_false(spans, node) if norm_call else None
    if drop:
        edits.append(drop)
    edits.append((spans.end(node), spans.end(node), ')'))
    described = f'line {node.lineno}: {weight["className"]} wrapped in {wrapper}'
    if drop:
        described += " (bias=False dropped: the norm's β was its shift)"
    if norm_call:
        norm_node, norm_callee, cls = norm_call
        identity = (_nn_prefix(norm_callee, cls) or prefix) + 'Identity()'
        edits.append((spans.start(norm_node), spans.end(norm_node), identity))
        if norm_node.end_lineno != node.end_lineno and not spans.lines[norm_node.end_lineno - 1].rstrip().endswith(
            '\\'
        ):
            end = spans.line_end(norm_node.end_lineno)
            edits.append(
                (end, end, f'  # weight norm on the {weight["className"]} of line {node.lineno} replaces this {cls}')
            )
        described = f'line {line}: {ast.get_source_segment(text, norm_node)} → {identity}; ' + described
    if api == 'legacy' and not spans.lines[node.end_lineno - 1].rstrip().endswith('\\'):
        edits.append((spans.line_end(node.end_lineno), spans.line_end(node.end_lineno), LEGACY_NOTE))
    new_text = text
    # From the end backwards; of two insertions at one offset the later-listed goes first, so the note follows ')'.
    for _, (start, end, new) in sorted(enumerate(edits), key=lambda e: (e[1][0], e[1][1], e[0]), reverse=True):
        new_text = new_text[:start] + new + new_text[end:]
    if add_import:
        new_text = 'import torch\n' + new_text
    return new_text, described
