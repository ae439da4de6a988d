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
