# A tabular regressor in the usual PyTorch shape: a helper builds each block, the model stacks them. It trains with
# batches of 2 (see `normscope` below): each BatchNorm estimates its features' mean and variance from two rows, so
# every step normalizes differently and the running averages used at inference never match training.
# Open it in VS Code: the BatchNorm1d line of the helper is underlined before any run; ▶ Check normalization trains it
# and puts the measured drift there too. On the command line: `normscope check examples/small_batch_bn.py`, and
# `normscope compare examples/small_batch_bn.py:16 --to layerNorm,groupNorm` trains the alternatives.
import torch.nn as nn

normscope = {'batch_size': 2, 'steps': 40}


def dense_block(in_features, out_features):
    """Linear → BatchNorm → ReLU: one hidden layer of the regressor."""
    return nn.Sequential(
        nn.Linear(in_features, out_features),
        nn.BatchNorm1d(out_features),
        nn.ReLU(),
    )


class TabularNet(nn.Module):
    def __init__(self, features=12, hidden=32):
        super().__init__()
        self.body = nn.Sequential(dense_block(features, hidden), dense_block(hidden, hidden))
        self.out = nn.Linear(hidden, 1)

    def forward(self, x):
        return self.out(self.body(x))
