"""Which modules are rows of the layer table, and which parameters each row owns.

A module is measured as a layer when it computes: a leaf (nn.Linear, nn.ReLU, nn.LSTM), a parametrized module (torch
2.x weight norm: one layer, not its `parametrizations` children), or a module with parameters of its own, which it
uses directly, not only through its children: nn.MultiheadAttention (in_proj_weight; its out_proj is never called as a
module, F.multi_head_attention_forward reads its weight), a user block scaling by a raw nn.Parameter, a ViT holding
its position embedding. Containers without parameters of their own (nn.Sequential, a ResNet block,
nn.TransformerEncoderLayer) are not rows: their children are. A module without parameters of its own that reads a
child's weights directly (F.linear(x, self.proj.weight)) is not measured, nor are those weights.
A row's parameters: its own, plus those of descendants that did not run as rows of their own in the measured forward
(MultiheadAttention's out_proj); a descendant that ran owns its parameters (the block's nn.Linear)."""

import torch

from . import features

CONTAINERS = (torch.nn.Sequential, torch.nn.ModuleList, torch.nn.ModuleDict)


def measured_modules(model):
    """[(display name, module)] of the modules measured as layers, in registration order."""
    out, inside = [], []
    for name, m in model.named_modules():
        if any(name.startswith(p) for p in inside):
            continue
        if features.is_parametrized(m):
            inside.append(f'{name}.parametrizations' if name else 'parametrizations')
            out.append((display_name(name), m))
        elif isinstance(m, CONTAINERS):
            continue
        elif not any(True for _ in m.children()) or any(p is not None for p in m._parameters.values()):
            out.append((display_name(name), m))
    return out


def display_name(qualified):
    """`features.0` stays; a bare index of a top-level Sequential (`3`) becomes `model.3`; the model itself `model`."""
    return 'model' if not qualified else f'model.{qualified}' if qualified[0].isdigit() else qualified


def row_parameters(module, ran):
    """The parameters of the row of `module`; `ran`: ids of the measured modules that ran (their parameters are
    theirs)."""
    if features.is_parametrized(module):
        return list(module.parameters())
    params, seen = [], set()

    def add(m):
        for p in m._parameters.values():
            if p is not None and id(p) not in seen:
                seen.add(id(p))
                params.append(p)
        for child in m.children():
            if id(child) not in ran:
                add(child)

    add(module)
    return params


def model_leaves(models):
    """Every measured leaf of the models, once, and the rank of the model it belongs to. With several models each name
    carries its model's (`netG/net.0`): module paths such as `net.0` repeat from model to model."""
    leaves, ranks, seen = [], [], set()
    for rank, (name, model, _) in enumerate(models):
        for leaf, module in measured_modules(model):
            if id(module) not in seen:
                seen.add(id(module))
                leaves.append((f'{name}/{leaf}' if len(models) > 1 else leaf, module))
                ranks.append(rank)
    return leaves, ranks


def model_names(models, frame, is_users):
    """What the user's code calls each model (`netG`), from the first frame from `frame` outward whose file
    `is_users(filename)` and that binds it; else its class name (numbered where two are alike)."""
    names = [None] * len(models)
    while frame is not None and None in names:
        if is_users(frame.f_code.co_filename):
            for scope in (frame.f_locals, frame.f_globals):
                for k, m in enumerate(models):
                    if names[k] is None:
                        names[k] = next((n for n, v in scope.items() if v is m and not n.startswith('_')), None)
        frame = frame.f_back
    names = [n or type(m).__name__ for n, m in zip(names, models)]
    return [n if names.count(n) == 1 else f'{n}{k + 1}' for k, n in enumerate(names)]
