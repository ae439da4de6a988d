"""Static rules on PyTorch source, parsed with Python's own `ast` (no torch needed):
`python -m normscope.analysis.lint <file> [batch_size] [--stdin]` (source from stdin: an unsaved editor buffer) prints
{"findings": [...], "calls": [...], "trainingCalls": [...], "dependencies": [...], "models": [...]} as JSON
(trainingCalls:
where a training script trains, training_calls.py; dependencies: the absolute paths of the neighbouring modules it read;
models: the classes a run would pick the model from, candidates.py).
The rules and their messages follow src/analysis/rules (the tfjs versions); a "stack" is the ordered
torch.nn calls of one nn.Sequential(...) or of one function body (__init__, a builder, a helper)."""

import ast
import json
import os
import sys

from .candidates import editor_candidates
from .lint_norms import weight_decay
from .torch_calls import (
    BATCH_NORMS,
    CONVS,
    NORMS,
    PASS_THROUGH,
    RECURRENT,
    WEIGHTS,
    Imports,
    finding,
    layer_stacks,
    torch_calls,
)
from .training_calls import training_calls

SMALL_BATCH = 16
# What the bn-small-batch fix offers instead of BatchNorm.
NORM_FOR = {
    'groupNorm': 'nn.GroupNorm (per-example statistics over groups of channels)',
    'layerNorm': 'nn.LayerNorm (per-example statistics)',
}
DEEP_STACK = 8


def _previous(stack, call):
    i = stack.index(call)
    return next((c for c in reversed(stack[:i]) if c['className'] not in PASS_THROUGH), None)


def _int_literal(node):
    return (
        node.value
        if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool)
        else None
    )


def _batch_size(tree):
    """Smallest literal batch size: a `batch_size=` keyword (DataLoader(...)) or the normscope spec's entry."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == 'batch_size' and (size := _int_literal(node.value)):
            found.append((size, node.value.lineno))
        if isinstance(node, ast.Dict):
            for k, v in zip(node.keys, node.values):
                if isinstance(k, ast.Constant) and k.value == 'batch_size' and (size := _int_literal(v)):
                    found.append((size, v.lineno))
    return min(found) if found else None


def lint(path, text, batch_override=None, dependencies=None):
    """(findings, calls); `dependencies` collects the other files read (the module of the class an optimizer trains)."""
    tree = ast.parse(text, filename=path)
    imports = Imports()
    imports.visit(tree)
    calls = torch_calls(tree, imports)
    stacks = layer_stacks(tree, calls)
    findings = []
    norms = [c for c in calls if c['kind'] == 'nn' and c['className'] in NORMS]
    batch = (batch_override, None) if batch_override else _batch_size(tree)
    if batch and batch[0] < SMALL_BATCH:
        where = f' (line {batch[1]})' if batch[1] else ''
        for c in (c for c in norms if c['className'] in BATCH_NORMS):
            to = 'groupNorm' if c['className'] in ('BatchNorm2d', 'BatchNorm3d') else 'layerNorm'
            findings.append(
                finding(
                    path,
                    c,
                    'bn-small-batch',
                    'error' if batch[0] <= 2 else 'warning',
                    f'{c["className"]} normalizes with the statistics of the current batch, but this model trains '
                    f'with batch size {batch[0]}{where}. '
                    + (
                        'With one example the batch variance is 0, so every output collapses to β.'
                        if batch[0] == 1
                        else f"Mean and variance estimated from {batch[0]} examples are noisy (BN's error rises "
                        f'sharply below {SMALL_BATCH}), and the running averages used at inference never match '
                        'training.'
                    ),
                    f'Use {NORM_FOR[to]}, which does not depend on the batch size, or train with batches of '
                    f'{SMALL_BATCH} or more.',
                    {'action': 'swap', 'to': to},
                )
            )
    seen = set()
    for stack in stacks:
        for c in stack:
            prev = _previous(stack, c)
            key = (c['line'], c['column'])
            if c['className'] in BATCH_NORMS and prev and prev['className'] in RECURRENT and ('rec',) + key not in seen:
                seen.add(('rec',) + key)
                findings.append(
                    finding(
                        path,
                        c,
                        'bn-in-recurrent',
                        'warning',
                        f'{c["className"]} after {prev["className"]} averages over the batch and every time step '
                        'together, so one mean/variance has to serve all positions and sequence lengths, '
                        'and the running averages used at inference match none of them. LayerNorm normalizes each '
                        'time step of each sequence by itself, which is why it is the standard choice for RNNs.',
                        'Swap it for nn.LayerNorm.',
                        {'action': 'swap', 'to': 'layerNorm'},
                    )
                )
            if c['className'] == 'LayerNorm' and prev and prev['className'] in CONVS and ('ln',) + key not in seen:
                seen.add(('ln',) + key)
                findings.append(
                    finding(
                        path,
                        c,
                        'ln-on-conv',
                        'info',
                        'LayerNorm on a convolutional feature map makes every channel share one mean and scale, '
                        'although conv channels detect different things and have very different statistics. '
                        "GroupNorm normalizes groups of related channels per example, keeps LN's batch-size "
                        'independence and trains conv nets better.',
                        'Swap it for nn.GroupNorm (e.g. 32 groups, or fewer when there are few channels).',
                        {'action': 'swap', 'to': 'groupNorm'},
                    )
                )
        weighted = [c for c in stack if c['className'] in WEIGHTS]
        if (
            len(weighted) >= DEEP_STACK
            and not any(c['className'] in NORMS for c in stack)
            and ('deep', weighted[0]['line']) not in seen
        ):
            seen.add(('deep', weighted[0]['line']))
            findings.append(
                finding(
                    path,
                    weighted[0],
                    'missing-norm',
                    'warning',
                    f'This model stacks {len(weighted)} weight layers (threshold {DEEP_STACK}) with no normalization. '
                    "Each layer's output scale then depends on every weight before it, so small mis-scalings compound "
                    'with depth into vanishing or exploding activations and gradients.',
                    'Insert a normalization after the weight layers (nn.BatchNorm2d / nn.GroupNorm for convs, '
                    'nn.LayerNorm for Linear), starting with this one.',
                )
            )
    findings += weight_decay(path, tree, imports, calls, dependencies)
    findings += _post_norm(path, tree, calls)
    return findings, calls


def _post_norm(path, tree, calls):
    """`self.norm(x + f(x))` in forward() where self.norm is a norm layer built in the same class."""
    out = []
    for cls in (n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)):
        inner = {id(n) for n in ast.walk(cls)}
        norm_attrs = set()
        for n in ast.walk(cls):
            if (
                isinstance(n, ast.Assign)
                and isinstance(n.value, ast.Call)
                and any(
                    id(n.value) == id(c['node']) and c['className'] in NORMS for c in calls if id(c['node']) in inner
                )
            ):
                norm_attrs |= {t.attr for t in n.targets if isinstance(t, ast.Attribute)}
        for fn in (n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == 'forward'):
            for n in ast.walk(fn):
                if (
                    isinstance(n, ast.Call)
                    and isinstance(n.func, ast.Attribute)
                    and n.func.attr in norm_attrs
                    and n.args
                    and isinstance(n.args[0], ast.BinOp)
                    and isinstance(n.args[0].op, ast.Add)
                ):
                    out.append(
                        finding(
                            path,
                            None,
                            'post-norm',
                            'info',
                            'This residual block normalizes after the addition, norm(x + f(x)) (post-norm). The '
                            'norm rescales the identity path at every block, so gradients to early blocks pass '
                            'through every norm layer: deep post-norm stacks need warm-up and train unstably. '
                            'Pre-norm, x + f(norm(x)), keeps the identity path clean.',
                            'Move the normalization to the start of the residual branch: x + f(norm(x)) (add a final '
                            'norm after the last block).',
                            line=n.lineno,
                            column=n.col_offset + 1,
                        )
                    )
    return out


def main():
    path = os.path.abspath(sys.argv[1])
    batch = int(sys.argv[2]) if len(sys.argv) > 2 and sys.argv[2] else None
    try:
        if '--stdin' in sys.argv:
            text = sys.stdin.read()
        else:
            with open(path, encoding='utf-8') as f:
                text = f.read()
        read = []
        findings, calls = lint(path, text, batch, read)
        tree = ast.parse(text, filename=path)
        trainers, dependencies = training_calls(tree, path)
        models = editor_candidates(tree)
    except SyntaxError as e:
        where = f':{e.lineno}' if e.lineno else ''
        print(
            json.dumps(
                {
                    'error': {
                        'code': 'syntax',
                        'message': f'{os.path.basename(path)}{where}: syntax error: {e.msg}',
                        'file': path,
                        'line': e.lineno,
                    }
                }
            )
        )
        return
    except OSError as e:
        print(json.dumps({'error': {'code': 'io', 'message': f'{path}: {e.strerror}', 'file': path}}))
        return
    print(
        json.dumps(
            {
                'findings': findings,
                'calls': [{k: v for k, v in c.items() if k != 'node'} for c in calls],
                'trainingCalls': trainers,
                'dependencies': sorted(set(dependencies) | set(read)),
                'models': models,
            }
        )
    )


if __name__ == '__main__':
    main()
