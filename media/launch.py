"""How the external tools (ffmpeg, LibreOffice) are started, limited, waited for and stopped.

Every run gets:
- resource limits set before the tool starts (media/rlimit_exec.py): address space
  (`MEDIA_MEMORY_LIMIT`), processor time (`MEDIA_CPU_LIMIT_SECONDS`) and the largest file it
  may write (`MEDIA_FILE_SIZE_LIMIT`). They hold even when the worker that started the tool is
  killed outright and no wall-clock timeout is left to stop it;
- its own process group, so the timeout, a cancel or Ctrl-C kills the tool and every process
  it started (LibreOffice's launcher starts the real worker as a child); and, on Linux, death
  with the process that started it (a worker killed outright leaves no tool running);
- a wait that reaps it with `os.wait4`, which reports the processor time it used: how a
  breach of the processor-time limit is told apart from any other kill.

    limits = configured_limits()
    process = LimitedProcess(["/usr/bin/ffmpeg", "-version"], limits=limits,
                             stdout=subprocess.DEVNULL, stderr=log_file)
    outcome = process.wait(deadline=time.monotonic() + 60)   # None: still running
    if outcome is None:
        process.kill()
    reason = limit_breach(outcome, limits, output_text)      # None, or why it was stopped
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Sequence

from django.conf import settings

from media import rlimit_exec

DEFAULT_MEMORY_LIMIT = 4 * 1024**3
DEFAULT_CPU_LIMIT_SECONDS = 12 * 60 * 60
DEFAULT_FILE_SIZE_LIMIT = 16 * 1024**3
WAIT_POLL_SECONDS = (0.005, 0.05)
# What a tool prints when an allocation failed (ffmpeg's AVERROR(ENOMEM), x264, libvpx, a
# thread whose stack could not be mapped, C++ and Python runtimes).
_OUT_OF_MEMORY_WORDS = ("cannot allocate memory", "malloc of size", "memory allocation error",
                        "out of memory", "pthread_create() failed", "memoryerror",
                        "std::bad_alloc")


@dataclass(frozen=True)
class ResourceLimits:
    """0 in a field means "no limit"."""

    memory_bytes: int = 0
    cpu_seconds: int = 0
    file_size_bytes: int = 0


@dataclass(frozen=True)
class Outcome:
    returncode: int  # negative: killed by that signal
    cpu_seconds: float


def configured_limits() -> ResourceLimits:
    return ResourceLimits(
        memory_bytes=int(getattr(settings, "MEDIA_MEMORY_LIMIT", DEFAULT_MEMORY_LIMIT)),
        cpu_seconds=int(getattr(settings, "MEDIA_CPU_LIMIT_SECONDS", DEFAULT_CPU_LIMIT_SECONDS)),
        file_size_bytes=int(getattr(settings, "MEDIA_FILE_SIZE_LIMIT", DEFAULT_FILE_SIZE_LIMIT)))


def limited_command(command: Sequence[str], limits: ResourceLimits) -> list[str]:
    """`command` behind the limit-setting step; its program as an absolute path (execv)."""
    program = command[0]
    if os.sep not in program:
        program = shutil.which(program) or program
    return [sys.executable, "-I", "-S", str(Path(rlimit_exec.__file__).resolve()),
            str(limits.memory_bytes), str(limits.cpu_seconds), str(limits.file_size_bytes),
            str(os.getpid()), "--", str(Path(program).absolute()), *command[1:]]


class LimitedProcess:
    """One run of a tool under `limits`, in its own process group."""

    def __init__(self, command: Sequence[str], *, limits: ResourceLimits,
                 stdout: int | IO[bytes] | None, stderr: int | IO[bytes] | None,
                 env: dict[str, str] | None = None) -> None:
        self.limits = limits
        # OSError (no Python, no such program) goes to the caller, which names the tool.
        self.popen = subprocess.Popen(limited_command(command, limits),
                                      stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr,
                                      env=env, process_group=0)
        self.pid = self.popen.pid
        self.outcome: Outcome | None = None

    def poll(self) -> Outcome | None:
        if self.outcome is None:
            pid, status, usage = os.wait4(self.pid, os.WNOHANG)
            if pid == self.pid:
                self._reaped(status, usage)
        return self.outcome

    def wait(self, deadline: float) -> Outcome | None:
        """Wait until the tool ends or `deadline` (time.monotonic()) passes: then None."""
        pause = WAIT_POLL_SECONDS[0]
        while self.poll() is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            time.sleep(min(pause, remaining))
            pause = min(pause * 2, WAIT_POLL_SECONDS[1])
        return self.outcome

    def kill(self) -> Outcome:
        """SIGKILL the whole group (the tool and its children) and reap the tool."""
        if self.outcome is None:
            try:
                os.killpg(self.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                self.popen.kill()
            _pid, status, usage = os.wait4(self.pid, 0)
            self._reaped(status, usage)
        assert self.outcome is not None
        return self.outcome

    def _reaped(self, status: int, usage: object) -> None:
        returncode = os.waitstatus_to_exitcode(status)
        # Reaped here, so Popen must not wait for the pid again (it may be reused).
        self.popen.returncode = returncode
        cpu = float(getattr(usage, "ru_utime", 0.0)) + float(getattr(usage, "ru_stime", 0.0))
        self.outcome = Outcome(returncode=returncode, cpu_seconds=cpu)


def limit_breach(outcome: Outcome, limits: ResourceLimits, output: str) -> str | None:
    """Why the tool stopped, if one of its resource limits stopped it; None otherwise.

    `output` is what the tool printed (its last few kilobytes are enough): an allocation that
    failed is reported by the tool, not by the exit status.
    """
    if outcome.returncode == 0:
        return None
    cpu_limit = limits.cpu_seconds
    if cpu_limit and (outcome.returncode == -signal.SIGXCPU
                      or outcome.cpu_seconds >= cpu_limit - 0.5):
        return (f"it used more than its limit of {cpu_limit} s of processor time "
                "(setting MEDIA_CPU_LIMIT_SECONDS)")
    lowered = output.lower()
    # Tools that ignore SIGXFSZ (Python does) see the write fail with EFBIG instead.
    if limits.file_size_bytes and (outcome.returncode == -signal.SIGXFSZ
                                   or "file too large" in lowered):
        return (f"it tried to write a file larger than its limit of "
                f"{format_size(limits.file_size_bytes)} (setting MEDIA_FILE_SIZE_LIMIT)")
    if limits.memory_bytes and any(word in lowered for word in _OUT_OF_MEMORY_WORDS):
        return (f"it needed more than its limit of {format_size(limits.memory_bytes)} of "
                "memory (setting MEDIA_MEMORY_LIMIT)")
    return None


def format_size(size: int) -> str:
    for unit, power in (("GiB", 3), ("MiB", 2), ("KiB", 1)):
        if size >= 1024**power:
            return f"{size / 1024**power:g} {unit}"
    return f"{size} bytes"
