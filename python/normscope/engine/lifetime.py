"""How the engine talks to its host and how it ends, whatever the user's code does (docs/security.md).

The host (src/runner/pythonProcess.ts) starts the engine as the leader of its own process group, stdin /dev/null,
with one extra socket at fd NORMSCOPE_CONTROL_FD: events go out on it as JSON lines, `cancel` lines come in. The
user's stdout and stderr stay theirs (the host shows them), so a print can never corrupt the protocol.

- Control: a thread reads the socket with os.read. No Python file object, so no lock that a fork can copy while
  held (`for line in sys.stdin` in a thread deadlocked every DataLoader worker: it closes stdin as it starts).
  End of file: the host is gone.
- Parent watch: prctl(PR_SET_PDEATHSIG, SIGKILL) on Linux ends the engine the moment the host's thread dies
  (kill -9 included), and a thread polls the parent pid (every platform).
- The reaper: a small process forked first; when the engine is gone, for any reason, it kills the engine's process
  group, so DataLoader workers, multiprocessing children and whatever else the run started end with it. Children
  forked from the main thread also get PDEATHSIG, so they end the same instant as the engine.
- SIGINT and SIGTERM sent to the engine itself cancel, as the control line does.
"""

import ctypes
import os
import signal
import sys
import threading
import time

PR_SET_PDEATHSIG = 1
PARENT_POLL_S = 0.2
REAPER_POLL_S = 0.05
_libc = []


def libc():
    """The C library through ctypes (errno kept), or None."""
    if not _libc:
        try:
            _libc.append(ctypes.CDLL(None, use_errno=True))
        except OSError:
            _libc.append(None)
    return _libc[0]


def set_parent_death_signal(sig):
    """Linux: `sig` is sent to this process when the thread that started it ends. False where there is no prctl."""
    lib = libc() if sys.platform.startswith('linux') else None
    return lib is not None and lib.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0


def _kill_own_group():
    try:
        os.killpg(os.getpgrp(), signal.SIGKILL)
    finally:
        os._exit(137)


def _reap(engine_pid):
    """The reaper's whole life: no fds of the engine's, wait for the engine to go, then end its group."""
    try:
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        os.closerange(3, 1 << 16)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        while os.getppid() == engine_pid:
            time.sleep(REAPER_POLL_S)
        os.killpg(os.getpgrp(), signal.SIGKILL)
    finally:
        os._exit(0)


_fork_state = {'main': False, 'parent': 0}


def _before_fork():
    _fork_state['main'] = threading.current_thread() is threading.main_thread()
    _fork_state['parent'] = os.getpid()


def _after_fork_in_child():
    # Only children of the main thread: PDEATHSIG follows the forking *thread*, and a DataLoader made in a short-lived
    # thread must keep its workers. The reaper ends the others.
    if _fork_state['main'] and set_parent_death_signal(signal.SIGKILL) and os.getppid() != _fork_state['parent']:
        os._exit(137)  # the parent died before the prctl


class Lifetime:
    """The engine's channel to the host, its cancel flag and its watches."""

    def __init__(self):
        self.cancel = threading.Event()
        self.pid = os.getpid()
        self._lock = threading.Lock()
        fd = os.environ.get('NORMSCOPE_CONTROL_FD')
        self.hosted = fd is not None
        if self.hosted:
            self.fd = int(fd)
            os.set_inheritable(self.fd, False)  # forked children still hold it; exec'd ones do not
            self.host_pid = int(os.environ.get('NORMSCOPE_HOST_PID') or os.getppid())
        else:  # run by hand: events on the real stdout, the user's prints on stderr
            self.fd = os.dup(1)
            os.dup2(2, 1)
            sys.stdout = sys.stderr
            self.host_pid = os.getppid()

    def guard(self):
        """Before any user code: the parent-death signal, the reaper, and signals that cancel. Call first of all, while
        the engine has one thread (fork)."""
        if self.hosted and hasattr(os, 'fork'):
            if os.getpgrp() != self.pid:
                os.setpgid(0, 0)  # the host starts it detached; make sure the group is ours alone before killing it
            if set_parent_death_signal(signal.SIGKILL) and os.getppid() != self.host_pid:
                os._exit(137)  # the host died before the prctl
            if os.fork() == 0:
                _reap(self.pid)
            os.register_at_fork(before=_before_fork, after_in_child=_after_fork_in_child)
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: self.cancel.set())

    def start_watching(self):
        """The control reader and the parent poll, as daemon threads (after any Landlock restriction: they inherit
        it)."""
        if not self.hosted:
            return
        threading.Thread(target=self._read_control, name='normscope-control', daemon=True).start()
        threading.Thread(target=self._poll_parent, name='normscope-parent', daemon=True).start()

    def send(self, line):
        """One protocol line, from any thread of the engine; never from a forked child (a DataLoader worker)."""
        if os.getpid() != self.pid:
            return
        data = (line + '\n').encode()
        with self._lock:
            while data:
                data = data[os.write(self.fd, data) :]

    def _host_gone(self):
        if self.hosted and hasattr(os, 'getpgrp') and os.getpgrp() == self.pid:
            _kill_own_group()
        os._exit(137)

    def _read_control(self):
        pending = b''
        while True:
            try:
                chunk = os.read(self.fd, 4096)
            except OSError:
                chunk = b''
            if not chunk:
                self._host_gone()
            *lines, pending = (pending + chunk).split(b'\n')
            if any(line.strip() == b'cancel' for line in lines):
                self.cancel.set()

    def _poll_parent(self):
        while os.getppid() == self.host_pid:
            time.sleep(PARENT_POLL_S)
        self._host_gone()
