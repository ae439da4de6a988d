"""Least privilege for a model file under `check`, `compare` and what-if runs: Landlock (Linux 5.13+, no privileges,
three system calls through ctypes). What the engine keeps, and why (docs/security.md):

- read files and list folders everywhere: the model's imports, torch, data files can live anywhere;
- write only beneath one temp folder (NORMSCOPE_WRITE_DIR, also $TMPDIR and tempfile's folder), /dev/shm (shared
  memory between DataLoader workers and multiprocessing semaphores) and /dev/null; nothing can be executed there;
- execute only this interpreter (multiprocessing's `spawn` starts it again) and its ELF loader;
- no TCP connections or listening ports (ABI 4+), no abstract Unix sockets or signals outside the run (ABI 6+).

Landlock restricts the calling thread and the threads and processes it starts later; the engine restricts itself on
the main thread before it starts any other thread and before the user's file is imported. `normscope run <script>`
and `--no-restrict` / `normscope.restrictPermissions: false` run without it; so does a system without Landlock (older
kernels, macOS, Windows), which the run's notes say. `python -m normscope.engine.landlock` prints the ABI version
(0: unavailable)."""

import ctypes
import errno
import os
import struct
import sys
import tempfile
import traceback

from .lifetime import libc

SYS_CREATE_RULESET, SYS_ADD_RULE, SYS_RESTRICT_SELF = 444, 445, 446  # the same number on every architecture
CREATE_RULESET_VERSION = 1
RULE_PATH_BENEATH = 1
PR_SET_NO_NEW_PRIVS = 38

EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
TRUNCATE, IOCTL_DEV = 1 << 14, 1 << 15
FS_BITS_OF_ABI = {1: 13, 2: 14, 3: 15, 4: 15, 5: 16}  # ABI 2 adds REFER, 3 TRUNCATE, 5 IOCTL_DEV
NET_BIND_TCP, NET_CONNECT_TCP = 1 << 0, 1 << 1
SCOPE_ABSTRACT_UNIX_SOCKET, SCOPE_SIGNAL = 1 << 0, 1 << 1


class _RulesetAttr(ctypes.Structure):
    _fields_ = [
        ('handled_access_fs', ctypes.c_uint64),
        ('handled_access_net', ctypes.c_uint64),
        ('scoped', ctypes.c_uint64),
    ]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [('allowed_access', ctypes.c_uint64), ('parent_fd', ctypes.c_int32)]


def _syscall():
    if not sys.platform.startswith('linux'):
        return None
    lib = libc()
    if lib is None:
        return None
    lib.syscall.restype = ctypes.c_long
    return lib.syscall


def abi():
    """The Landlock ABI version this kernel offers, 0 when none (not Linux, kernel < 5.13, Landlock not enabled)."""
    syscall = _syscall()
    if syscall is None:
        return 0
    version = syscall(SYS_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(CREATE_RULESET_VERSION))
    return max(0, int(version))


def elf_interpreter(path):
    """The program interpreter (PT_INTERP) an ELF executable names, e.g. /lib64/ld-linux-x86-64.so.2, or None."""
    try:
        with open(path, 'rb') as f:
            head = f.read(64)
            if head[:4] != b'\x7fELF':
                return None
            wide, order = head[4] == 2, '<' if head[5] == 1 else '>'
            (phoff,) = struct.unpack_from(order + ('Q' if wide else 'I'), head, 32 if wide else 28)
            entsize, count = struct.unpack_from(order + 'HH', head, 54 if wide else 42)
            for i in range(count):
                f.seek(phoff + i * entsize)
                ph = f.read(entsize)
                if struct.unpack_from(order + 'I', ph, 0)[0] == 3:  # PT_INTERP
                    offset, size = struct.unpack_from(order + ('Q16xQ' if wide else 'I8xI'), ph, 8 if wide else 4)
                    f.seek(offset)
                    return f.read(size).rstrip(b'\0').decode()
    except (OSError, struct.error, UnicodeDecodeError):
        return None
    return None


def _check(result, what):
    if result < 0:
        raise OSError(ctypes.get_errno(), f'landlock: {what}: {os.strerror(ctypes.get_errno())}')
    return result


def restrict(writable_dirs, version):
    """Restrict this thread (and all it starts from now on) as the module says. Raises OSError when the kernel
    refuses."""
    syscall = _syscall()
    fs_all = (1 << FS_BITS_OF_ABI.get(version, 16)) - 1
    attr = _RulesetAttr(
        fs_all,
        NET_BIND_TCP | NET_CONNECT_TCP if version >= 4 else 0,
        SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL if version >= 6 else 0,
    )
    ruleset = _check(
        syscall(SYS_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(ctypes.sizeof(attr)), ctypes.c_uint32(0)),
        'create a ruleset',
    )
    try:
        executable = os.path.realpath(sys.executable)
        loader = elf_interpreter(executable)
        rules = [
            ('/', READ_FILE | READ_DIR | (IOCTL_DEV & fs_all)),
            (executable, EXECUTE | READ_FILE),
            *([(os.path.realpath(loader), EXECUTE | READ_FILE)] if loader else []),
            (os.devnull, (WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV) & fs_all),
            *((d, fs_all & ~EXECUTE) for d in writable_dirs),
        ]
        for path, access in rules:
            try:
                fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except OSError:
                continue  # no /dev/shm here: nothing to allow
            try:
                # A rule on a file (not a folder) may only name file rights.
                allowed = (
                    access
                    if os.path.isdir(path)
                    else access & (EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV)
                )
                rule = _PathBeneath(allowed, fd)
                _check(
                    syscall(
                        SYS_ADD_RULE,
                        ctypes.c_int(ruleset),
                        ctypes.c_int(RULE_PATH_BENEATH),
                        ctypes.byref(rule),
                        ctypes.c_uint32(0),
                    ),
                    f'allow {path}',
                )
            finally:
                os.close(fd)
        _check(libc().prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 'set no_new_privs')
        _check(syscall(SYS_RESTRICT_SELF, ctypes.c_int(ruleset), ctypes.c_uint32(0)), 'restrict the engine')
    finally:
        os.close(ruleset)


_confined = {}  # 'writable': the folder a restricted run may write to


def confine(options):
    """Restricts the engine for a model run (not a script run, not with permissions 'off'), after what must run
    unrestricted: the compiled hooks (native.py runs the C compiler and writes its cache). Returns the note for the
    run's notes when the run goes unrestricted for want of Landlock, else None."""
    if options.get('script') or options.get('permissions') == 'off':
        return None
    writable = os.environ.get('NORMSCOPE_WRITE_DIR') or tempfile.mkdtemp(prefix='normscope-run-')
    os.environ['TMPDIR'] = tempfile.tempdir = writable
    from ..measuring import native  # here: it imports torch, which `python -m normscope.engine.landlock` needs not

    native.library()
    version = abi()
    try:
        if not version:
            raise OSError(
                'Landlock is not available on this system (it needs Linux 5.13 or later with Landlock enabled)'
            )
        restrict([writable, '/dev/shm'], version)
    except OSError as e:
        return f'permissions: not restricted: {e}; the model ran with your rights (docs/security.md)'
    _confined['writable'] = writable
    return None


TURN_OFF = (
    'NormScope runs model files with least privilege (docs/security.md); turn it off with the '
    'normscope.restrictPermissions setting (CLI: --no-restrict) if the model must do this'
)
_EXEC_FUNCTIONS = {
    'execv',
    'execve',
    'execvp',
    'execvpe',
    'execl',
    'execle',
    'execlp',
    'execlpe',
    'posix_spawn',
    'posix_spawnp',
    'spawnv',
    'spawnve',
    'spawnvp',
    'spawnvpe',
    '_execute_child',
}


def refused(e):
    """What the restriction refused, in words, when `e` is its refusal; else None (a permission error the user's
    own rights give, or no restriction)."""
    writable = _confined.get('writable')
    while e is not None and not isinstance(e, PermissionError):  # a library may wrap it (raise ... from e)
        e = e.__cause__ or e.__context__
    if writable is None or e is None:
        return None
    frames = traceback.extract_tb(e.__traceback__)
    target = e.filename
    if any(f.name in _EXEC_FUNCTIONS for f in frames):
        return f'the model is not allowed to start programs ({target}). {TURN_OFF}.'
    if target is None:  # connect() and bind() refused by Landlock: EACCES (a signal refused would be EPERM)
        return f'the model is not allowed to open network connections. {TURN_OFF}.' if e.errno == errno.EACCES else None
    path = os.path.abspath(os.fsdecode(target))
    # Landlock does not answer access(2): when the user's own rights allow the write, the restriction refused it.
    if os.access(path if os.path.exists(path) else os.path.dirname(path), os.W_OK):
        return f'the model is not allowed to write {path} (writes are allowed only under {writable}). {TURN_OFF}.'
    return None


if __name__ == '__main__':
    print(abi())
