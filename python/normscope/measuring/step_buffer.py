"""The results of one sampled step, as numbered float64 slots (meter.py, param_stats.py).

The fused C pass (native.py) writes its results straight into the buffer's memory at a slot's address, so a step
creates no Python objects per statistic; the torch-ops path `put`s 0-d tensors (or Python floats) into slots instead,
and `read` turns everything into one list of floats: one copy of the buffer, one stack + tolist of the tensors (or
`flush` writes them into the buffer for a reader in C)."""

import torch


class StepBuffer:
    def __init__(self, capacity=1024):
        self.raw = torch.empty(capacity, dtype=torch.float64)
        self.base, self.capacity = self.raw.data_ptr(), capacity  # read by the compiled hooks (hooks.c) too
        self.used = 0
        self.pending = []  # (slot, 0-d tensor or float) from the torch-ops path

    def take(self, count):
        """The first of `count` new slots. Growing copies what is there, so take before asking for an address."""
        start = self.used
        self.used = end = start + count
        if end > self.raw.numel():
            grown = torch.empty(max(2 * self.raw.numel(), end), dtype=torch.float64)
            grown[:start] = self.raw[:start]
            self.raw, self.base, self.capacity = grown, grown.data_ptr(), grown.numel()
        return start

    def address(self, slot):
        return self.base + 8 * slot

    def put(self, slot, value):
        self.pending.append((slot, value))

    def push(self, value):
        slot = self.take(1)
        self.pending.append((slot, value))
        return slot

    def flush(self):
        """Write the pending values into their slots (the fused finish reads the buffer's memory)."""
        if self.pending:
            slots = torch.tensor([slot for slot, _ in self.pending])
            values = [v if type(v) is not float else torch.tensor(v, dtype=torch.float64) for _, v in self.pending]
            self.raw[slots] = torch.stack([v.reshape(()).double() for v in values])
            self.pending = []

    def values(self, start, count):
        return self.raw[start : start + count].tolist()

    def clear(self):
        self.used, self.pending = 0, []

    def read(self):
        """Every slot's value (slots nobody wrote hold garbage: their statistics do not apply), then empty again."""
        values = self.raw[: self.used].tolist()
        tensors = [(slot, v) for slot, v in self.pending if type(v) is not float]
        if tensors:
            for (slot, _), v in zip(tensors, torch.stack([v.reshape(()) for _, v in tensors]).double().tolist()):
                values[slot] = v
        for slot, v in self.pending:
            if type(v) is float:
                values[slot] = v
        self.used, self.pending = 0, []
        return values
