"""The networks of pytorch_meter_check.py. Net: activation modules and the cases the fast path shortcuts around.
FunctionalNet: what real code writes instead — functional activations in each form the engine watches (F.*, torch.*,
Tensor methods, in place), on a layer's output and after an in-place residual add, inside the model and inside a
child block — and what must not become a row (a relu on a parameter, the tanh of a formula); an
nn.MultiheadAttention (not a leaf; its out_proj never runs as a module); a block computing with its own nn.Parameter.
Each functional activation the engine should measure goes through `tap`, which records its input and output for the
reference computation while RECORD is on (the engine never sees tap: it only passes tensors through)."""

import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

RECORD = {'on': False, 'calls': {}}  # while on: row name → (input, output, in place)


def tap(function, x, y, prefix='', inplace=False):
    """y; records (x, y) under the name the engine gives the call on the caller's line (`relu@L57`)."""
    if RECORD['on'] and torch.is_grad_enabled():
        RECORD['calls'][f'{prefix}{function}@L{sys._getframe(1).f_lineno}'] = (x, y, inplace)
    return y


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1, self.bn1, self.relu, self.pool = (
            nn.Conv2d(3, 8, 3, padding=1),
            nn.BatchNorm2d(8),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.conv2, self.bn2, self.flat, self.same = (
            nn.Conv2d(8, 8, 3, padding=1),
            nn.BatchNorm2d(8),
            nn.Flatten(),
            nn.Identity(),
        )
        self.fc1, self.ln, self.tanh = nn.Linear(8 * 4 * 4, 32), nn.LayerNorm(32), nn.Tanh()
        self.fc2, self.bn3, self.sig, self.fc3 = nn.Linear(32, 16), nn.BatchNorm1d(16), nn.Sigmoid(), nn.Linear(16, 4)

    def forward(self, x):
        x = self.pool(self.relu(self.bn1(self.conv1(x))))
        r = x
        x = self.bn2(self.conv2(x))
        x += r  # in place, after bn2's hook measured its output
        x = self.pool(self.relu(x))
        x = self.fc1(self.same(self.flat(x)))  # Identity: its output is its input, already hooked by Flatten's hook
        if x.requires_grad:  # the user's own hook on a hooked output (its handle takes a weak reference)
            x.register_hook(lambda g: None)
        x = self.tanh(self.ln(x))
        return self.fc3(self.sig(self.bn3(self.fc2(x))))


class Gate(nn.Module):
    """Computes with its own parameter and a child: a row of its own (output, `scale`), the child another."""

    def __init__(self, n):
        super().__init__()
        self.fc = nn.Linear(n, n)
        self.scale = nn.Parameter(torch.full((n,), 8.0))

    def forward(self, x):
        h = self.fc(x)
        h = tap('relu', h, torch.relu(h), 'gate.')  # a child block's functional activation: named after it
        return h * F.relu(self.scale)  # a relu on a parameter: no layer's activation, no row


class FunctionalNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8)
        self.conv2, self.bn2 = nn.Conv2d(8, 8, 3, padding=1), nn.BatchNorm2d(8)
        self.proj = nn.Linear(8 * 4 * 4, 16)
        self.attn = nn.MultiheadAttention(16, 2)
        self.gate, self.fc, self.fc2, self.head = Gate(16), nn.Linear(16, 16), nn.Linear(16, 16), nn.Linear(16, 4)
        with torch.no_grad():
            self.fc.bias[:4] = -30.0  # four units of fc never fire: relu6's dead fraction is 0.25

    def forward(self, x):
        h = self.bn1(self.conv1(x))
        x = F.max_pool2d(tap('relu', h, F.relu(h)), 2)  # F.relu of a layer's output
        y = self.bn2(self.conv2(x))
        y += x  # a residual, in place: the memory stays bn2's
        y = tap('relu', y.detach().clone(), F.relu(y, inplace=True), inplace=True)  # in place (inplace=True)
        z = self.proj(F.max_pool2d(y, 2).flatten(1))
        z = tap('tanh', z, torch.tanh(z))  # torch.* form
        seq = torch.stack([z, 0.5 * z, -z])  # (length 3, batch, 16): MultiheadAttention's default layout
        a = self.attn(seq, seq, seq, need_weights=False)[0].mean(0)
        g = self.gate(a)
        g = tap('sigmoid', g, g.sigmoid())  # a Tensor method, on the Gate's output
        f = self.fc(g)
        f = tap('relu6', f, F.relu6(f))
        e = self.fc2(f)
        e = tap('leaky_relu', e, F.leaky_relu(e, 0.1))
        u = tap('gelu', e, F.gelu(e)) + torch.tanh(0.5 * e * e)  # the tanh of a formula: no row
        out = self.head(u)
        return tap('relu', out.detach().clone(), out.relu_(), inplace=True)  # a Tensor method in place
