"""The layer table of a measured run: a LayerInfo (src/protocol/run.ts) per row of the Meter's statistics, in table
order — what the engine's `layers` event, a training script's run and the run log (normscope.watching) all send."""

from . import creation, features
from .meter import ACTIVATIONS, BN_TYPES, is_norm


def layer_infos(meter):
    """LayerInfo of every row in table order (src/protocol/run.ts)."""
    infos, names = [], {}
    for row, i in enumerate(meter.order):
        if i < len(meter.leaves):
            name, module = meter.leaves[i]
            info = {
                'name': name,
                'className': features.parametrized_class_name(module),
                'paramCount': sum(p.numel() for p in meter.row_parameters(i)),
                'isNorm': is_norm(module),
                'source': creation.source_of(module),
            }
            activation = ACTIVATIONS.get(type(module))
            if isinstance(module, BN_TYPES) and module.track_running_stats:
                info['movingAverageWeight'] = module.momentum
        else:  # a functional activation (functional.py)
            site = meter.sites[i - len(meter.leaves)]
            info = {
                'name': site.name,
                'className': site.class_name,
                'paramCount': 0,
                'isNorm': False,
                'source': site.source,
            }
            activation = site.activation
        info.update(index=row, outputShape=meter.shapes[i])
        if activation:
            info['activation'] = activation
        if i in meter.outputs:
            info['modelOutput'] = True
        names[i] = info['name']
        infos.append(info)
    for info, i in zip(infos, meter.order):
        if meter.fed_by.get(i) in names:
            info['fedBy'] = names[meter.fed_by[i]]
    return infos
