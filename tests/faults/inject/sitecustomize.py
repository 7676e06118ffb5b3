"""Injected I/O faults for tests: a real command fails at the k-th write, read or fsync.

A test puts this folder first on PYTHONPATH, so Python imports this module at start-up (the
`site` module imports `sitecustomize`), and sets

    KOLIBRI_LIKE_TEST_FAULT=<op>:<k>:<errno>[:<path-substring>]
    KOLIBRI_LIKE_TEST_FAULT_LOG=<file>          # optional: one line per injected failure

`op` is `write`, `read` or `fsync`; `errno` a name (ENOSPC, EIO, ENODEV) or a number. From the
k-th matching call on, every matching call raises OSError(errno): a full disk stays full and a
pulled drive stays gone. A call matches when it acts on a regular file whose path contains
`path-substring` (any regular file without one). Counted calls: writes and reads of file
objects from `open`, `io.open` and `os.fdopen` (their raw file is replaced by a subclass of
io.FileIO that counts), `os.write`, `os.pwrite`, `os.read`, `os.pread`, and `os.fsync`. Pipes,
sockets and terminals never match, nor does anything done in C (SQLite) or by child processes
(ffmpeg). Production code carries no hook for any of this.

Without the variable nothing is replaced.
"""

from __future__ import annotations

import builtins
import errno as errno_names
import io
import os
import stat
import threading

VARIABLE = "KOLIBRI_LIKE_TEST_FAULT"
LOG_VARIABLE = "KOLIBRI_LIKE_TEST_FAULT_LOG"
OPS = ("write", "read", "fsync")


class _Fault:
    def __init__(self, spec: str) -> None:
        op, count, code, *rest = spec.split(":", 3)
        if op not in OPS:
            raise ValueError(f"{VARIABLE}: unknown operation {op!r} (one of {OPS})")
        self.op, self.first = op, int(count)
        self.errno = int(code) if code.isdigit() else int(getattr(errno_names, code))
        self.substring = rest[0] if rest else ""
        self.seen = 0
        self.lock = threading.Lock()
        self.log = os.environ.get(LOG_VARIABLE, "")

    def check(self, op: str, path: str | None) -> None:
        """Raise the fault if this call is the k-th matching one or later."""
        if op != self.op or path is None or self.substring not in path:
            return
        with self.lock:
            self.seen += 1
            fire = self.seen >= self.first
            seen = self.seen
        if not fire:
            return
        if self.log:
            with _REAL_OPEN(self.log, "a", encoding="utf-8") as log:
                log.write(f"{op} {seen} {errno_names.errorcode[self.errno]} {path}\n")
        raise OSError(self.errno, os.strerror(self.errno), path)


def _fd_path(descriptor: int) -> str | None:
    """The path of a regular file open as `descriptor`, else None."""
    try:
        if not stat.S_ISREG(_REAL_FSTAT(descriptor).st_mode):
            return None
        return os.readlink(f"/proc/self/fd/{descriptor}")
    except OSError:
        return None


def _install(fault: _Fault) -> None:
    class FaultyFileIO(io.FileIO):
        """A raw file whose reads and writes go through the fault first."""

        def _path(self) -> str | None:
            return _fd_path(self.fileno())

        def write(self, data):  # type: ignore[no-untyped-def,override]
            fault.check("write", self._path())
            return super().write(data)

        def readinto(self, buffer):  # type: ignore[no-untyped-def,override]
            fault.check("read", self._path())
            return super().readinto(buffer)

        def read(self, size=-1):  # type: ignore[no-untyped-def,override]
            fault.check("read", self._path())
            return super().read(size)

        def readall(self):  # type: ignore[no-untyped-def,override]
            fault.check("read", self._path())
            return super().readall()

    def faulty_open(file, mode="r", buffering=-1, encoding=None, errors=None,  # type: ignore[no-untyped-def]
                    newline=None, closefd=True, opener=None):
        """`open` as io.open does it, with a FaultyFileIO as the raw file."""
        if not isinstance(file, (str, bytes, os.PathLike, int)) or \
                not isinstance(mode, str) or set(mode) - set("rwxab+t"):
            return _REAL_OPEN(file, mode, buffering, encoding, errors, newline, closefd, opener)
        binary = "b" in mode
        raw_mode = "".join(letter for letter in "xrwa" if letter in mode) + \
            ("+" if "+" in mode else "")
        raw = FaultyFileIO(file, raw_mode, closefd, opener=opener)
        try:
            line_buffering = buffering == 1 or (buffering < 0 and raw.isatty())
            if buffering < 0 or buffering == 1:
                buffering = io.DEFAULT_BUFFER_SIZE
            if buffering == 0:
                if binary:
                    return raw
                raise ValueError("can't have unbuffered text I/O")
            if "+" in mode:
                buffer: io.BufferedIOBase = io.BufferedRandom(raw, buffering)
            elif set(mode) & set("wxa"):
                buffer = io.BufferedWriter(raw, buffering)
            else:
                buffer = io.BufferedReader(raw, buffering)
            if binary:
                return buffer
            text = io.TextIOWrapper(buffer, io.text_encoding(encoding), errors, newline,
                                    line_buffering)
            text.mode = mode  # type: ignore[misc]
            return text
        except BaseException:
            raw.close()
            raise

    real_write, real_pwrite = os.write, os.pwrite
    real_read, real_pread, real_fsync = os.read, os.pread, os.fsync

    def write(descriptor, data):  # type: ignore[no-untyped-def]
        fault.check("write", _fd_path(descriptor))
        return real_write(descriptor, data)

    def pwrite(descriptor, data, offset):  # type: ignore[no-untyped-def]
        fault.check("write", _fd_path(descriptor))
        return real_pwrite(descriptor, data, offset)

    def read(descriptor, size):  # type: ignore[no-untyped-def]
        fault.check("read", _fd_path(descriptor))
        return real_read(descriptor, size)

    def pread(descriptor, size, offset):  # type: ignore[no-untyped-def]
        fault.check("read", _fd_path(descriptor))
        return real_pread(descriptor, size, offset)

    def fsync(descriptor):  # type: ignore[no-untyped-def]
        number = descriptor if isinstance(descriptor, int) else descriptor.fileno()
        fault.check("fsync", _fd_path(number))
        return real_fsync(descriptor)

    builtins.open = io.open = faulty_open  # type: ignore[assignment]
    os.write, os.pwrite, os.read, os.pread, os.fsync = write, pwrite, read, pread, fsync


_REAL_OPEN = io.open
_REAL_FSTAT = os.fstat

if os.environ.get(VARIABLE):
    _install(_Fault(os.environ[VARIABLE]))
