"""What the installed torch offers, detected by feature (the attribute is there), never by version number:
backports, nightlies and vendor builds (Debian's 1.13.0a0) make version strings unreliable.
  nn.RMSNorm                                  torch ≥ 2.4   else swap.py emits a small RMSNorm module
  nn.utils.parametrizations.weight_norm       torch ≥ 2.1   else the older nn.utils.weight_norm (a forward pre-hook)
  nn.utils.parametrize.is_parametrized        torch ≥ 1.9   a parametrized Linear is measured as one layer
Each is looked up when called, so a test can monkeypatch the attribute and see the other branch taken. torch is
imported on first use: the swap runs on any Python 3 (without torch it emits the current APIs)."""


def _nn():
    import torch.nn as nn

    return nn


def rmsnorm_class():
    """nn.RMSNorm, or None."""
    return getattr(_nn(), 'RMSNorm', None)


def has_rmsnorm():
    return rmsnorm_class() is not None


def parametrized_weight_norm():
    """torch.nn.utils.parametrizations.weight_norm, or None."""
    return getattr(getattr(_nn().utils, 'parametrizations', None), 'weight_norm', None)


def weight_norm_api():
    """('parametrizations' | 'legacy', the function). The legacy one still exists (deprecated) in 2.x."""
    try:
        fn = parametrized_weight_norm()
    except ImportError:
        return 'parametrizations', None
    return ('parametrizations', fn) if fn is not None else ('legacy', _nn().utils.weight_norm)


def is_parametrized(module):
    """True for a module whose weights are parametrizations (ParametrizedLinear…): it has a `parametrizations`
    child, yet is one layer to the user."""
    check = getattr(getattr(_nn().utils, 'parametrize', None), 'is_parametrized', None)
    return bool(check and check(module))


def parametrized_class_name(module):
    """`ParametrizedLinear` → `Linear` (torch builds the subclass at run time), other names unchanged."""
    name = type(module).__name__
    return name[len('Parametrized') :] if is_parametrized(module) and name.startswith('Parametrized') else name
