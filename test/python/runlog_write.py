"""Feeds python/normscope/runlog/writer.py's writer a run described by a JSON file (test/unit/runlog-fixtures.ts):
`python3 runlog_write.py spec.json`. Numbers that may be NaN live in a float64 file next to it (`values`), referenced
by index, so that NaN and Inf reach the writer exactly. `"numpy": false` makes the events use the loop instead."""

import array
import json
import sys

from normscope.runlog import policy as runlog_policy
from normscope.runlog.writer import RunLogWriter


def main(path):
    with open(path, encoding='utf-8') as f:
        spec = json.load(f)
    floats = array.array('d')
    with open(spec['values'], 'rb') as f:
        floats.frombytes(f.read())
    if not spec.get('numpy', True):
        runlog_policy._numpy = lambda: None
    writer = RunLogWriter(
        spec['dir'],
        script=spec.get('script'),
        project_root=spec['projectRoot'],
        meta=spec.get('meta'),
        budget_bytes=spec.get('budget'),
        **({'stat_names': spec['statNames']} if 'statNames' in spec else {}),
    )
    for op in spec['ops']:
        kind = op[0]
        if kind == 'layers':
            writer.layers(op[1])
        elif kind == 'sample':
            _, step, loss, step_ms, offset, count = op
            writer.sample(step, floats[loss], step_ms, floats[offset : offset + count])
        elif kind == 'loss':
            writer.loss(op[1], floats[op[2]])
        elif kind == 'skipped':
            writer.skipped(op[1], op[2])
        elif kind == 'info':
            writer.info(**op[1])
        elif kind == 'close':
            writer.close(op[1])
        elif kind == 'print':  # a marker the driving test waits for (a watch test reads a live log)
            print(op[1], flush=True)
        elif kind == 'sleep':
            import time

            time.sleep(op[1])
        elif kind == 'exit':  # dies without close(): a killed job
            import os

            os._exit(0)


if __name__ == '__main__':
    main(sys.argv[1])
