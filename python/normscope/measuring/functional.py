"""Functional activations as rows of the layer table. Most PyTorch code applies its activations as functions in
`forward` — `F.relu(self.bn1(self.conv1(x)))` in the CIFAR ResNets, `F.relu(x)` in the MNIST example, the F.relu that
nn.TransformerEncoderLayer calls — where no module hook sees them, so a dead ReLU there would go unseen.

While a measured model's forward runs in a sampled step a TorchFunctionMode (function_mode.py) sees every torch call;
WATCHED
ones — relu, relu6, leaky_relu, gelu, tanh, sigmoid as F.*, torch.* and Tensor methods, in-place forms and
`inplace=True` included — are measured when
  - a measured model's forward runs them (the innermost module of those models whose method is on the stack owns
    them; a call inside an activation module — nn.ReLU calls F.relu — is that module's own row), and
  - they take the output of a layer measured this step: its memory, by data pointer and size, so `out += shortcut`
    before `F.relu(out)` still counts. Anything else — a relu on a parameter, the tanh inside a GELU formula, a hinge
    in a loss — is no layer's activation and passes untouched; so do no_grad forwards (not a training step).
Each call site (owning module × place in the code) is one row, measured as an activation module is (dead units for
relu/relu6, saturation for tanh/sigmoid, moments, gain, gradient into its output), named `<owner>.<function>@L<line>`
(`layer1.0.relu@L27`; the model itself: `relu@L62`). Its source is the line of the call in the user's files, or, for a
call inside library code (TransformerEncoderLayer's), the line that built the owning module; the Meter's `fed_by` is
the layer whose unchanged output it took."""

import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

from . import creation
from .function_mode import TorchCallWatcher

TORCH_DIR = os.path.dirname(os.path.abspath(torch.__file__)) + os.sep
# Calls reach the mode through these (handle_torch_function, F.relu's own body): the call site is the frame after them.
DISPATCH_FILES = {
    os.path.join(TORCH_DIR, f) for f in ('overrides.py', os.path.join('nn', 'functional.py'), '_tensor.py')
}
# Their own rows measure these modules' outputs (MultiheadAttention computes, it does not activate).
ACTIVATION_MODULES = tuple(
    c
    for c in vars(nn.modules.activation).values()
    if isinstance(c, type) and issubclass(c, nn.Module) and c is not nn.Module and c is not nn.MultiheadAttention
)


def _watched():
    """function → (activation, class name shown, position of its `inplace` argument or None, always in place)."""
    table = {}
    for name, activation, inplace_at in (
        ('relu', 'relu', 1),
        ('relu6', 'relu6', 1),
        ('leaky_relu', 'leakyrelu', 2),
        ('gelu', 'gelu', None),
        ('tanh', 'tanh', None),
        ('sigmoid', 'sigmoid', None),
    ):
        for owner, prefix in (
            (torch, 'torch'),
            (torch.Tensor, 'Tensor'),
            (F, 'F'),
        ):  # torch.relu_ is F.relu_: torch.* named
            for suffix, always in (('', False), ('_', True)):
                fn = getattr(owner, name + suffix, None)
                if fn is not None and fn not in table:
                    table[fn] = (activation, f'{prefix}.{name}{suffix}', None if always else inplace_at, always)
    return table


WATCHED = _watched()


class Site:
    """One functional call site's row."""

    __slots__ = ('name', 'class_name', 'activation', 'source', 'producer')

    def __init__(self, name, class_name, activation, source, producer):
        self.name, self.class_name, self.activation, self.source, self.producer = (
            name,
            class_name,
            activation,
            source,
            producer,
        )


class FunctionalActivations:
    """The call sites of one Meter's `models` [(name or None, model)], and when to watch: only during those models'
    forwards in a sampled step (`arm` … `disarm`, the models' forward hooks that switch the mode on and off are there
    only then), so the rest of the step (data loading, zero_grad, the loss, clipping) pays no detour; and at every
    sampled step only once call sites were found — a model without any is looked at again every RECHECK-th sampled
    step (a branch taken later still gets its rows), so it pays nothing at the others."""

    RECHECK = 10

    def __init__(self, meter, models):
        self.meter, self.owners = meter, owner_prefixes(models)
        self.rows = {}  # call site: (id(owner), code, offset, class name) → row
        self.names = set()
        self.user_code = {}  # code object → whether it is in the user's files
        self.watcher = TorchCallWatcher(self.dispatch)
        self.models = [model for _, model in models]
        self.armed, self.depth, self.unwatched = False, 0, self.RECHECK - 1
        self.handles = []  # the models' pre/post forward hooks, only while armed (a hook costs every forward)

    def arm(self):
        """A sampled step begins: watch the measured models' forwards, when this step needs it. Returns whether it
        does."""
        self.armed = self.watcher.available and (bool(self.rows) or self.unwatched >= self.RECHECK - 1)
        self.unwatched = 0 if self.armed else self.unwatched + 1
        if self.armed and not self.handles:
            self.handles = [
                h
                for model in self.models
                for h in (model.register_forward_pre_hook(self._enter), model.register_forward_hook(self._leave))
            ]
        return self.armed

    def disarm(self):
        """Backward begins, or the step ended (also after a forward that raised): nothing is watched any more."""
        self.armed, self.depth = False, 0
        self.watcher.stop()
        for h in self.handles:
            h.remove()
        self.handles = []

    def remove(self):
        self.disarm()

    def _enter(self, module, inputs):
        if self.depth:
            self.depth += 1
        elif self.armed and torch.is_grad_enabled():
            self.depth = 1
            self.watcher.start()

    def _leave(self, module, inputs, output):
        if self.depth:
            self.depth -= 1
            if not self.depth:
                self.watcher.stop()

    def dispatch(self, func, args, kwargs):
        spec = WATCHED.get(func)
        if spec is None:
            return func(*args, **kwargs) if kwargs else func(*args)
        return self.call(func, spec, args, kwargs)

    def call(self, func, spec, args, kwargs):
        x = args[0] if args else kwargs.get('input')
        meter = self.meter
        if (
            type(x) is not torch.Tensor
            or not x.is_floating_point()
            or not meter.sampling
            or not torch.is_grad_enabled()
        ):
            return func(*args, **kwargs)
        found = self._locate(sys._getframe(3))
        producer = _producer(meter.seen, x) if found is not None else None
        if producer is None:
            return func(*args, **kwargs)
        activation, label, inplace_at, always = spec
        inplace = (
            always
            or inplace_at is not None
            and bool(kwargs.get('inplace', args[inplace_at] if len(args) > inplace_at else False))
        )
        row = self._row(found, label, activation, producer[0])
        if producer[1]:
            meter.fed_by.setdefault(row, producer[0])
        if inplace:  # the call overwrites its input: measured before
            meter.measure_input(row, None, (x,))
        y = func(*args, **kwargs)
        self._measure(row, x, y, inplace)
        return y

    def _measure(self, i, x, y, inplace):
        """Row `i`'s statistics: output `y`, input `x` (unless in place: measured before the call), gradient."""
        meter = self.meter
        if type(y) is not torch.Tensor or not y.is_floating_point() or y.numel() == 0:
            return
        meter.shapes.setdefault(i, [None, *y.shape[1:]])
        meter._measure_output(i, y)
        if not inplace:
            meter.measure_input(i, None, (x,))
        if y.requires_grad:
            hook = meter.grad_hooks[i]
            if inplace:  # a tensor hook would get the gradient into its input (the hook dict of the earlier node)
                y.grad_fn.register_hook(lambda _, grad_out: hook(grad_out[0]))
            else:
                y.register_hook(hook)

    def _locate(self, frame):
        """(owner, its name prefix, call-site frame, the call's frame in the user's files or None) for a call made at
        `frame`, or None when no measured model's method runs it or its owner is an activation module."""
        site = user = None
        while frame is not None:
            code = frame.f_code
            if code.co_filename in DISPATCH_FILES:  # torch's dispatch, no module method: read no locals there
                frame = frame.f_back
                continue
            if site is None:
                site = frame
            if user is None and self._is_user(code):
                user = frame
            if code.co_argcount and code.co_varnames[0] == 'self':
                owner = self.owners.get(id(frame.f_locals.get('self')))
                if owner is not None:
                    return None if isinstance(owner[0], ACTIVATION_MODULES) else (*owner, site, user)
            frame = frame.f_back
        return None

    def _is_user(self, code):
        known = self.user_code.get(code)
        if known is None:
            known = self.user_code[code] = creation.is_user_file(code.co_filename)
        return known

    def _row(self, found, label, activation, producer):
        owner, prefix, site, user = found
        key = (id(owner), site.f_code, site.f_lasti, label)
        row = self.rows.get(key)
        if row is None:
            function = label.rpartition('.')[2].rstrip('_')
            if user is not None:  # in the user's code: that line
                source = {
                    'file': os.path.abspath(user.f_code.co_filename),
                    'line': user.f_lineno,
                    'column': creation._column(user),
                }
                name = f'{prefix}{function}@L{user.f_lineno}'
            else:  # inside library code: the line that built its module
                source, name = creation.source_of(owner), f'{prefix}{function}'
            unique, k = name, 1
            while unique in self.names:
                k += 1
                unique = f'{name}#{k}'
            self.names.add(unique)
            row = self.rows[key] = self.meter.add_row(Site(unique, label, activation, source, producer))
        return row


def _producer(seen, x):
    """(the row whose output `x` holds this step, whether `x` is unchanged since) or None; `seen`: the Meter's table of
    this step's measured tensors. By memory (data pointer, size) of a contiguous tensor: an in-place update (a
    residual `out += x`) keeps the producer, not the identity."""
    if not x.is_contiguous():
        return None
    ptr, n = x.data_ptr(), x.numel()
    m = seen.get((ptr, n, x._version))
    if m is not None and m.layer is not None and m.ref() is not None:
        return m.layer, True
    for (p, k, _), m in seen.items():
        if p == ptr and k == n and m.layer is not None and m.ref() is not None:
            return m.layer, False
    return None


def owner_prefixes(models):
    """id(module) → (module, prefix of its functional rows' names) for every module of `models` [(name or None, model)]:
    `layer1.0.`, the model itself '' — with several models each prefixed by its name (`netG/`, `netG/main.0.`)."""
    owners = {}
    for model_name, model in models:
        head = f'{model_name}/' if model_name else ''
        for path, module in model.named_modules():
            owners.setdefault(id(module), (module, f'{head}{path}.' if path else head))
    return owners
