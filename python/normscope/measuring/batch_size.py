"""The batch size of a training step, from the step's own forward: forwards autograd does not record (a no_grad
evaluation, minGPT's batches of 100 or the word-language model's of 10) do not count.
Which dimension is the batch is the model's to say: the first module the forward runs that declares its layout with
a `batch_first` attribute (nn.RNN/LSTM/GRU, nn.MultiheadAttention, nn.Transformer and its layers, a user's module)
gives it, dimension 0 of its input when True, else dimension 1 — the word-language model's LSTM reads (35, 20, 200):
35 steps of a batch of 20 (a PackedSequence: its largest batch; an RNN's or MultiheadAttention's unbatched 2-D
input: 1). A model that declares nothing: dimension 0 of its input. Read at each step; `value` is the first
step's (a last short batch of an epoch does not change what the report says)."""

import torch

from . import pickling


def _declares(module):
    return isinstance(getattr(module, 'batch_first', None), bool)


# These also take unbatched input, (length, features): a batch of 1; only 3-D input has a batch dimension.
UNBATCHED_2D = (torch.nn.RNNBase, torch.nn.MultiheadAttention)


def _batch(x, batch_first, unbatched_2d=False):
    """The batch size of input `x` (batch_first None: nothing declared, dimension 0), or None."""
    if isinstance(x, torch.nn.utils.rnn.PackedSequence):
        return int(x.batch_sizes[0])
    if not isinstance(x, torch.Tensor) or x.dim() < (1 if batch_first is None else 2):
        return None
    if unbatched_2d and x.dim() == 2:
        return 1
    return int(x.shape[0 if batch_first is None or batch_first else 1])


class BatchProbe:
    def __init__(self, models):
        self.value = None  # the first measured step's batch size
        self.step = None  # this step's: (batch size, whether a declaring module gave it)
        self.handles = []
        pickling.keep_out_of_pickles()
        for model in models:
            self.handles.append(model.register_forward_pre_hook(self._root))
            self.handles += [
                m.register_forward_pre_hook(self._declared) for m in model.modules() if m is not model and _declares(m)
            ]

    def begin_step(self):
        self.step = None

    def end_step(self):
        """The step's batch size, kept as `value` at the first step that had one."""
        if self.value is None and self.step is not None:
            self.value = self.step[0]
        return self.step[0] if self.step else None

    def _root(self, module, inputs):
        if self.step is None and torch.is_grad_enabled():
            x = next((t for t in inputs if isinstance(t, (torch.Tensor, torch.nn.utils.rnn.PackedSequence))), None)
            declared = getattr(module, 'batch_first', None) if _declares(module) else None
            b = _batch(x, declared, isinstance(module, UNBATCHED_2D))
            if b:
                self.step = (b, declared is not None)

    def _declared(self, module, inputs):
        if (self.step is None or not self.step[1]) and torch.is_grad_enabled():
            b = _batch(inputs[0] if inputs else None, module.batch_first, isinstance(module, UNBATCHED_2D))
            if b:
                self.step = (b, True)

    def remove(self):
        for h in self.handles:
            h.remove()
        self.handles = []
