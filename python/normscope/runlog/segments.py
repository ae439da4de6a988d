"""Where a run log's sample records go (docs/run-log.md "Retention"), the same steps as src/runlog/segments.ts: appended
to the current recent segment (samples-N.bin); a segment that reached its size is closed; while the closed ones without
the oldest still fill the recent window, the oldest is aged: its kept records are appended to the history
(history-N.bin, a new file once the current one is full) and it is deleted; while the history is over its budget, the
stride doubles and the history is rewritten (new files written whole by tmp + rename, then the old ones deleted)."""

import os
import struct

FRAME = struct.Struct('<II')  # payload length, CRC-32 of the payload
SEQ = struct.Struct('<d')
FLAGS = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, 'O_BINARY', 0)


def _records(data):
    """(start, end, seq) of each whole record of a sample file."""
    off, n = 0, len(data)
    while off + FRAME.size <= n:
        length = FRAME.unpack_from(data, off)[0]
        end = off + FRAME.size + length
        if end > n:
            break
        yield off, end, SEQ.unpack_from(data, off + FRAME.size)[0]
        off = end


def close_quietly(*fds):
    """Closes the descriptors that are open; one that is already gone (a vanished mount) is not an error here."""
    for fd in fds:
        if fd is not None:
            try:
                os.close(fd)
            except OSError:
                pass


class SampleSegments:
    def __init__(self, directory, retention, on_stride):
        self.dir, self.retention, self.on_stride = directory, retention, on_stride
        self.segment_fd, self.segment_name, self.segment_size, self.segment_n = None, None, 0, 0
        self.recent = []  # closed recent segments: [name, size]
        self.history_fd, self.history, self.history_n = None, [], 0  # history files: [name, size]; the last one open

    def _path(self, name):
        return os.path.join(self.dir, name)

    def add(self, seq, record):
        if self.segment_fd is None:
            self.segment_n += 1
            self.segment_name = f'samples-{self.segment_n:06d}.bin'
            self.segment_fd, self.segment_size = os.open(self._path(self.segment_name), FLAGS | os.O_EXCL, 0o644), 0
        os.write(self.segment_fd, record)
        self.segment_size += len(record)
        r = self.retention
        if self.segment_size >= r.segment_limit:
            os.close(self.segment_fd)
            self.segment_fd = None
            self.recent.append([self.segment_name, self.segment_size])
            while (
                sum(size for _, size in self.recent) - self.recent[0][1] >= r.recent_limit
            ):  # the rest still fills the window
                self._age(self.recent.pop(0)[0])

    def close(self):
        close_quietly(self.segment_fd, self.history_fd)
        self.segment_fd = self.history_fd = None

    def _age(self, name):
        """A recent segment leaves the window: its kept samples go to the history, then it is deleted."""
        with open(self._path(name), 'rb') as f:
            data = f.read()
        kept = b''.join(data[start:end] for start, end, seq in _records(data) if self.retention.keeps(seq))
        if kept:
            self._append_history(kept)
        os.unlink(self._path(name))
        r = self.retention
        while sum(size for _, size in self.history) > r.history_limit:
            if not self._decimate(r.stride * 2):
                break

    def _append_history(self, chunk):
        r = self.retention
        if (
            self.history_fd is not None
            and self.history[-1][1] > 0
            and self.history[-1][1] + len(chunk) > r.segment_limit
        ):
            os.close(self.history_fd)
            self.history_fd = None
        if self.history_fd is None:
            self.history_n += 1
            self.history.append([f'history-{self.history_n:06d}.bin', 0])
            self.history_fd = os.open(self._path(self.history[-1][0]), FLAGS | os.O_EXCL, 0o644)
        os.write(self.history_fd, chunk)
        self.history[-1][1] += len(chunk)

    def _decimate(self, stride):
        """Rewrites the history at `stride`; False when that freed nothing (only protected samples are left)."""
        before = sum(size for _, size in self.history)
        old = [name for name, _ in self.history]
        if self.history_fd is not None:
            os.close(self.history_fd)
            self.history_fd = None
        self.history, out, size = [], [], 0
        for name in old:
            with open(self._path(name), 'rb') as f:
                data = f.read()
            for start, end, seq in _records(data):
                if self.retention.keeps(seq, stride):
                    out.append(data[start:end])
                    size += end - start
                    if size >= self.retention.segment_limit:
                        self._write_history(out)
                        out, size = [], 0
        if out:
            self._write_history(out)
        for name in old:
            os.unlink(self._path(name))
        self.retention.stride = stride
        self.on_stride(stride)
        return sum(size for _, size in self.history) < before

    def _write_history(self, records):
        self.history_n += 1
        name = f'history-{self.history_n:06d}.bin'
        data = b''.join(records)
        with open(self._path(name + '.tmp'), 'wb') as f:
            f.write(data)
        os.replace(self._path(name + '.tmp'), self._path(name))
        self.history.append([name, len(data)])
