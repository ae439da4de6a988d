"""Reads a run log back in Python for the watcher's tests (the format of docs/run-log.md; the product's reader is
src/runlog): the meta records, the samples by seq (values as float32 → float) and the loss of every step."""

import glob
import json
import os
import struct

FRAME = struct.Struct('<II')
SAMPLE = struct.Struct('<dddfI')
LOSS = struct.Struct('<dI')


def _records(path):
    with open(path, 'rb') as f:
        data = f.read()
    at = 0
    while at + FRAME.size <= len(data):
        size, _ = FRAME.unpack_from(data, at)
        if at + FRAME.size + size > len(data):
            return
        yield data[at + FRAME.size : at + FRAME.size + size]
        at += FRAME.size + size


def read_log(folder):
    with open(os.path.join(folder, 'meta.jsonl')) as f:
        meta = [json.loads(line) for line in f if line.endswith('\n')]
    samples = {}
    for path in glob.glob(os.path.join(folder, 'history-*.bin')) + glob.glob(os.path.join(folder, 'samples-*.bin')):
        for payload in _records(path):
            seq, step, loss, ms, rows = SAMPLE.unpack_from(payload)
            values = struct.unpack_from(f'<{(len(payload) - SAMPLE.size) // 4}f', payload, SAMPLE.size)
            samples[int(seq)] = {'step': int(step), 'loss': loss, 'rows': rows, 'values': list(values)}
    losses = {}
    for payload in _records(os.path.join(folder, 'loss.bin')):
        first, n = LOSS.unpack_from(payload)
        for k, v in enumerate(struct.unpack_from(f'<{n}f', payload, LOSS.size)):
            losses[int(first) + k] = v
    for s in samples.values():
        losses.setdefault(s['step'], s['loss'])
    return {
        'meta': meta,
        'samples': [samples[k] for k in sorted(samples)],
        'losses': losses,
        'layers': [layer for r in meta if r['type'] == 'layers' for layer in r['layers']],
        'run': meta[0],
        'records': lambda kind: [r for r in meta if r['type'] == kind],
    }


def stat(log, sample, layer, name):
    """A sample's value of statistic `name` for the layer named `layer`."""
    names = log['run']['statNames']
    row = next(k for k, info in enumerate(log['layers']) if info['name'] == layer)
    return sample['values'][row * len(names) + names.index(name)]
