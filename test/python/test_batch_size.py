"""The batch size of a training step (python/normscope/measuring/batch_size.py): the dimension the model declares with
`batch_first`, else dimension 0; forwards autograd does not record do not count (run by
test/unit/pytorch-features.test.ts with the other tests of this folder)."""

import unittest

import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence

from normscope.measuring.batch_size import BatchProbe


class Tagger(nn.Module):
    def __init__(self, batch_first):
        super().__init__()
        self.embed = nn.Embedding(50, 8)
        self.rnn = nn.LSTM(8, 8, batch_first=batch_first)

    def forward(self, tokens):
        return self.rnn(self.embed(tokens))[0]


def batch_of(model, *inputs, grad=True):
    probe = BatchProbe([model])
    probe.begin_step()
    with torch.set_grad_enabled(grad):
        model(*inputs)
    return probe.end_step()


class BatchSize(unittest.TestCase):
    def test_sequence_first_lstm_reads_dimension_1(self):
        self.assertEqual(batch_of(Tagger(False), torch.randint(0, 50, (35, 20))), 20)

    def test_batch_first_lstm_reads_dimension_0(self):
        self.assertEqual(batch_of(Tagger(True), torch.randint(0, 50, (20, 35))), 20)

    def test_a_model_declaring_nothing_reads_dimension_0(self):
        self.assertEqual(batch_of(nn.Sequential(nn.Linear(4, 3), nn.ReLU()), torch.randn(16, 4)), 16)

    def test_a_model_declaring_its_own_layout(self):
        model = nn.Transformer(d_model=8, nhead=2, num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=8)
        self.assertEqual(batch_of(model, torch.randn(7, 5, 8), torch.randn(3, 5, 8)), 5)

    def test_a_packed_sequence_gives_its_largest_batch(self):
        lstm = nn.LSTM(8, 8)
        packed = pack_padded_sequence(torch.randn(6, 4, 8), [6, 5, 3, 2])
        self.assertEqual(batch_of(lstm, packed), 4)

    def test_unbatched_rnn_input_is_a_batch_of_one(self):
        self.assertEqual(batch_of(nn.Sequential(nn.Linear(8, 8), nn.GRU(8, 8)), torch.randn(10, 8)), 1)

    def test_a_no_grad_forward_is_no_step(self):
        model = Tagger(False)
        probe = BatchProbe([model])
        probe.begin_step()
        with torch.no_grad():
            model(torch.randint(0, 50, (35, 100)))  # an evaluation
        model(torch.randint(0, 50, (35, 20)))
        self.assertEqual(probe.end_step(), 20)
        probe.begin_step()
        model(torch.randint(0, 50, (35, 7)))  # a last short batch: the first step's stays the run's
        self.assertEqual((probe.end_step(), probe.value), (7, 20))
        self.assertIsNone(batch_of(model, torch.randint(0, 50, (35, 20)), grad=False))


if __name__ == '__main__':
    unittest.main()
