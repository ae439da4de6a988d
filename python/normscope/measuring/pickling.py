"""A measured model pickles without NormScope's hooks. Scripts save whole models (`torch.save(model, f)`: the
word-language model after each epoch) and copy them (`copy.deepcopy(model)`: an EMA model); a module pickles its
`__dict__`, hook dicts included, and NormScope's hooks (closures, bound methods, hooks.c's Hook) cannot be pickled —
nor should a saved model need NormScope to load. nn.Module gets a __getstate__ (wrapping one torch may define) that
leaves them out; the user's own hooks stay. A module class with its own __getstate__ is left as it is."""

from collections import OrderedDict

import torch.nn as nn

HOOK_DICTS = ('_forward_hooks', '_forward_pre_hooks', '_backward_hooks')


def _our_module(name):
    return name == 'normscope' or name.startswith('normscope.')


def is_ours(hook):
    return type(hook).__module__ == '_normscope_hooks' or _our_module(getattr(hook, '__module__', None) or '')


def keep_out_of_pickles():
    """Installs the __getstate__ once per process."""
    current = nn.Module.__dict__.get('__getstate__')
    if getattr(current, 'normscope', False):
        return
    # object.__getstate__ exists from Python 3.11 on
    inner = current or object.__getstate__ if hasattr(object, '__getstate__') else current  # pyright: ignore

    def __getstate__(self):
        state = inner(self) if inner is not None else self.__dict__
        if not isinstance(state, dict) or not any(any(map(is_ours, state.get(k, {}).values())) for k in HOOK_DICTS):
            return state
        state = dict(state)
        for k in HOOK_DICTS:
            if k in state:
                state[k] = OrderedDict((key, h) for key, h in state[k].items() if not is_ours(h))
        return state

    __getstate__.normscope = True
    nn.Module.__getstate__ = __getstate__  # pyright: ignore[reportAttributeAccessIssue] -- installed on purpose
