"""The run log of a user's own training run (docs/run-log.md, the contract with src/runlog, which reads it).

One folder per run: meta.jsonl (JSON lines: the run, the layer table, events, the end), loss.bin (every step's loss)
and samples-*.bin / history-*.bin (each sampled step's values as float32 rows, layers x statNames, the layout of the
engine's StepSample.values). Every record is length-prefixed and CRC-checked and goes to the OS in one write, so a job
killed at any instant leaves a log readable up to its last whole record. Bounded by `budget_bytes`: the recent window
is kept whole, older samples are decimated, samples around the events of policy.py are kept (see there).
No torch import: the writer takes floats (a list, a float64 buffer, or anything with .tolist())."""

import atexit
import datetime
import json
import math
import os
import platform
import re
import socket
import struct
import sys
import time
import warnings
import zlib
from array import array

from .. import __version__
from ..measuring.project import project_root as find_project_root
from ..measuring.stats_math import STAT_NAMES
from .policy import PRIORITY, Events, Retention
from .segments import FLAGS, FRAME, SampleSegments, close_quietly

FORMAT, VERSION = 'normscope-run-log', 1
SAMPLE_HEAD = struct.Struct('<dddfI')  # seq, step, loss, stepMs, rows
LOSS_HEAD = struct.Struct('<dI')  # first step, count
DEFAULT_BUDGET = 128 << 20
LOSS_FLUSH_STEPS, LOSS_FLUSH_SECONDS = 4096, 1.0


def runs_dir():
    """Where runs go: $NORMSCOPE_DIR, else .normscope/runs in the working directory."""
    return os.environ.get('NORMSCOPE_DIR') or os.path.join(os.getcwd(), '.normscope', 'runs')


def _new_run_dir(script):
    base = runs_dir()
    os.makedirs(base, exist_ok=True)
    stem = (
        re.sub(r'[^A-Za-z0-9_.-]+', '-', os.path.splitext(os.path.basename(script or 'python'))[0]).strip('-.') or 'run'
    )
    name = f'{time.strftime("%Y%m%d-%H%M%S")}-{stem}'
    for n in range(1, 1000):
        path = os.path.join(base, name if n == 1 else f'{name}-{n}')
        try:
            os.mkdir(path)
            return path
        except FileExistsError:
            continue
    raise FileExistsError(f'{base}: no free run folder named {name}-N')


def _budget(budget_bytes):
    if budget_bytes is None and os.environ.get('NORMSCOPE_LOG_MB'):
        budget_bytes = float(os.environ['NORMSCOPE_LOG_MB']) * (1 << 20)
    return int(budget_bytes or DEFAULT_BUDGET)


def relative_source(source, root):
    """A layer's source with its file relative to the project root (POSIX separators), absolute when outside it."""
    if not source or not source.get('file'):
        return source
    file = os.path.abspath(source['file'])
    inside = root and (file == root or file.startswith(root.rstrip(os.sep) + os.sep))
    return {**source, 'file': os.path.relpath(file, root).replace(os.sep, '/') if inside else file}


def _floats(values):
    """(count, float32 little-endian bytes) of a list of floats, a float64 buffer, or anything with .tolist()."""
    if not isinstance(values, (list, tuple)):
        try:
            view = memoryview(values)
        except TypeError:
            view = None
        values = (
            view.cast('B').cast('d') if view is not None and view.format in ('d', '<d', '=d', 'B') else values.tolist()
        )
    np = sys.modules.get('numpy')
    if isinstance(values, memoryview) and np is not None:
        with np.errstate(over='ignore'):
            return len(values), np.frombuffer(values, dtype=np.float64).astype('<f4').tobytes()
    try:
        return len(values), struct.pack(f'<{len(values)}f', *values)
    except OverflowError:  # beyond float32's range: inf, as a cast gives
        floats = array('f', values)
        if sys.byteorder != 'little':
            floats.byteswap()
        return len(values), floats.tobytes()


def _versions():
    out = {'python': platform.python_version()}
    torch = sys.modules.get('torch')
    if torch is not None:
        out['torch'] = str(getattr(torch, '__version__', '?'))
    out['normscope'] = __version__
    return out


class RunLogWriter:
    """Writes one run's log. `directory`: the run folder (created; must not hold a run), None for a new folder under
    runs_dir(). `meta`: more fields of the run record (every, worldSize, batchSize, versions, ...). Errors of the file
    system (disk full) stop the log with one warning, never the training."""

    def __init__(
        self,
        directory=None,
        *,
        script=None,
        project_root=None,
        meta=None,
        stat_names=STAT_NAMES,
        budget_bytes=None,
        engine='pytorch',
    ):
        script = script if script is not None else (sys.argv[0] if sys.argv and os.path.isfile(sys.argv[0]) else None)
        if project_root is None and script:
            project_root = find_project_root(script)
        self.root = os.path.abspath(project_root or os.getcwd())
        if directory is None:
            self.dir = _new_run_dir(script)
        else:
            self.dir = os.path.abspath(directory)
            os.makedirs(self.dir, exist_ok=True)
        self.stat_names = list(stat_names)
        self.width = len(self.stat_names)
        self.retention = Retention(_budget(budget_bytes))
        self.segments = SampleSegments(
            self.dir, self.retention, lambda stride: self._line({'type': 'stride', 'stride': stride, 'seq': self.seq})
        )
        self.events = Events(self.stat_names)
        self.seq, self.layer_count, self.closed, self.broken = 0, 0, False, False
        self.last_step = None
        self.loss_first, self.loss_values, self.loss_flushed = None, array('f'), time.monotonic()
        self.meta_fd = os.open(os.path.join(self.dir, 'meta.jsonl'), FLAGS | os.O_EXCL, 0o644)
        self.loss_fd = os.open(os.path.join(self.dir, 'loss.bin'), FLAGS | os.O_EXCL, 0o644)
        run = {
            'type': 'run',
            'format': FORMAT,
            'version': VERSION,
            'engine': engine,
            'file': relative_source({'file': script}, self.root)['file'] if script else None,
            'projectRoot': self.root,
            'cwd': os.getcwd(),
            'host': socket.gethostname(),
            'pid': os.getpid(),
            'started': datetime.datetime.now().astimezone().isoformat(timespec='milliseconds'),
            'every': 1,
            'worldSize': 1,
            'statNames': self.stat_names,
            'budgetBytes': self.retention.budget,
            'versions': _versions(),
        }
        for key, value in (meta or {}).items():
            run[key] = {**run['versions'], **value} if key == 'versions' else value
        self._line(run)
        atexit.register(self._at_exit)

    # --- the API a training loop calls -------------------------------------------------------------------------

    def layers(self, infos):
        """The layer table so far (LayerInfo dicts in row order); rows beyond the last call are appended."""
        if self._stopped():
            return
        new = list(infos)[self.layer_count :]
        if new:
            table = [{**info, 'source': relative_source(info.get('source'), self.root)} for info in new]
            self._guard(self._line, {'type': 'layers', 'seq': self.seq, 'layers': table})
            self.layer_count += len(new)

    def sample(self, step, loss, step_ms, values):
        """One sampled step: its loss, time and values (rows x statNames floats, rows <= the layer table)."""
        if self._stopped():
            return
        count, blob = _floats(values)
        rows, rest = divmod(count, self.width)
        if rest or rows > self.layer_count:
            raise ValueError(
                f'run log: {count} values are not rows of {self.width} statistics for at most {self.layer_count} layers'
            )
        self._guard(self._sample, step, _number(loss), _number(step_ms), rows, blob)

    def loss(self, step, value):
        """The loss of a step that was not sampled (sampled steps' losses come with sample())."""
        if not self._stopped():
            self._guard(self._loss, step, _number(value), True)

    def skipped(self, step, reason):
        """A step the optimizer skipped (an AMP overflow)."""
        if not self._stopped():
            self._guard(self._line, {'type': 'skipped', 'step': step, 'reason': reason})

    def info(self, **fields):
        """Run facts learned late (batchSize, learningRate): the reader merges them into the run record."""
        if not self._stopped():
            self._guard(self._line, {'type': 'info', **fields})

    def close(self, reason='closed', message=None):
        """Ends the log with an end record ('closed', 'exception' with a message). A killed job leaves none."""
        if self.closed:
            return
        atexit.unregister(self._at_exit)
        if not self.broken:
            end = {
                'type': 'end',
                'reason': reason,
                'time': datetime.datetime.now().astimezone().isoformat(timespec='milliseconds'),
                'samples': self.seq,
                'steps': None if self.last_step is None else self.last_step + 1,
            }
            if message:
                end['message'] = message
            self._guard(self._finish, end)
        self._close_files()

    def __enter__(self):
        return self

    def __exit__(self, kind, value, tb):
        self.close(
            'exception' if value is not None else 'closed', f'{kind.__name__}: {value}' if value is not None else None
        )

    # --- internals -----------------------------------------------------------------------------------------------

    def _stopped(self):
        return self.closed or self.broken

    def _guard(self, fn, *args):
        try:
            fn(*args)
        except OSError as e:  # the disk, not the user's code: keep training, say once that the log stopped
            self.broken = True
            self._close_files()
            warnings.warn(
                f'NormScope: the run log {self.dir} stopped at step {self.last_step}: {e}', RuntimeWarning, stacklevel=3
            )

    def _at_exit(self):
        error = getattr(sys, 'last_value', None)  # an uncaught exception ended the interpreter
        self.close(
            'exception' if error else 'exit',
            f'{type(error).__name__}: {error}' if error else 'the process exited without close()',
        )

    def _finish(self, end):
        self._flush_loss()
        self._line(end)

    def _close_files(self):
        self.closed = True
        self.segments.close()
        close_quietly(self.loss_fd, self.meta_fd)
        self.loss_fd = self.meta_fd = None

    def _line(self, record):
        # NaN and Infinity are not JSON: null, as everywhere in the protocol (json writes them as bare tokens)
        text = json.dumps(json.loads(json.dumps(record), parse_constant=lambda _: None), separators=(',', ':'))
        os.write(self.meta_fd, (text + '\n').encode())

    def _sample(self, step, loss, step_ms, rows, blob):
        seq = self.seq
        self._loss(step, loss, True)  # flushed within a second; the sample record holds it meanwhile
        record_bytes = FRAME.size + SAMPLE_HEAD.size + len(blob)
        for kind, layer, value in self.events.sample(seq, rows, blob):
            self._event(kind, layer, seq, step, value, record_bytes)
        payload = SAMPLE_HEAD.pack(seq, step, loss, step_ms, rows) + blob
        self.segments.add(seq, FRAME.pack(len(payload), zlib.crc32(payload)) + payload)
        self.seq = seq + 1

    def _event(self, kind, layer, seq, step, value, record_bytes):
        kept = self.retention.protect(seq, record_bytes, PRIORITY[kind])
        self._line(
            {'type': 'event', 'seq': seq, 'step': step, 'kind': kind, 'layer': layer, 'value': value, 'kept': kept}
        )

    def _loss(self, step, value, check):
        if step == self.last_step:
            if self.loss_first is not None:
                self.loss_values[-1] = value  # the same step again (loss() then sample()): the later value
                return
            check = False
        if self.loss_first is not None and step != self.loss_first + len(self.loss_values):
            self._flush_loss()
        if self.loss_first is None:
            self.loss_first = step
        self.loss_values.append(value)
        self.last_step = step
        if check:
            size = FRAME.size + SAMPLE_HEAD.size + 4 * self.layer_count * self.width
            for kind, layer, v in self.events.loss(self.seq, value):
                self._event(kind, layer, self.seq, step, v, size)
        if len(self.loss_values) >= LOSS_FLUSH_STEPS or time.monotonic() - self.loss_flushed >= LOSS_FLUSH_SECONDS:
            self._flush_loss()

    def _flush_loss(self):
        self.loss_flushed = time.monotonic()
        if self.loss_first is None:
            return
        if sys.byteorder != 'little':
            self.loss_values.byteswap()
        payload = LOSS_HEAD.pack(self.loss_first, len(self.loss_values)) + self.loss_values.tobytes()
        os.write(self.loss_fd, FRAME.pack(len(payload), zlib.crc32(payload)) + payload)
        self.loss_first, self.loss_values = None, array('f')


def _number(x):
    """A float of a Python number, a 0-d tensor or None (NaN: not known)."""
    return math.nan if x is None else float(x)
