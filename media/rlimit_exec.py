"""Set resource limits, then become the given command: the first step of every external tool.

Run as `python -I -S rlimit_exec.py MEMORY CPU FILESIZE PARENT -- program args...` (0 means
"no limit") by media.launch. The limits are set in this fresh, single-threaded interpreter and
then `execv` replaces it with the program, so the tool starts with them and its children
inherit them. On Linux the program is also killed when the process that started it (PARENT)
dies: a worker killed outright leaves no encode running that nobody waits for.

Why not `preexec_fn`: Python's documentation warns that code run between fork and exec in a
threaded parent (our task workers are threads) can deadlock the child.

Standard library only, because `-I -S` starts it without the project or site-packages.
"""

from __future__ import annotations

import ctypes
import os
import resource
import signal
import sys

# Seconds of processor time between SIGXCPU (a tool may stop cleanly) and SIGKILL.
CPU_GRACE_SECONDS = 2
EXIT_CANNOT_RUN = 127
PR_SET_PDEATHSIG = 1


def apply_limits(memory_bytes: int, cpu_seconds: int, file_size_bytes: int) -> None:
    if memory_bytes > 0:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    if cpu_seconds > 0:
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + CPU_GRACE_SECONDS))
    if file_size_bytes > 0:
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_bytes, file_size_bytes))


def die_with_parent(parent: int) -> bool:
    """Ask Linux for SIGKILL when the parent dies (kept across execv); False if it is gone
    already (the request came too late to catch that)."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    return os.getppid() == parent


def main(argv: list[str]) -> int:
    if len(argv) < 6 or argv[4] != "--":
        sys.stderr.write("usage: rlimit_exec.py MEMORY CPU FILESIZE PARENT -- program...\n")
        return 2
    try:
        memory_bytes, cpu_seconds, file_size_bytes, parent = (int(value) for value in argv[:4])
        apply_limits(memory_bytes, cpu_seconds, file_size_bytes)
    except (ValueError, OSError) as error:
        sys.stderr.write(f"cannot set resource limits {argv[:3]}: {error}\n")
        return 2
    if not die_with_parent(parent):
        return EXIT_CANNOT_RUN
    program = argv[5:]
    try:
        os.execv(program[0], program)
    except OSError as error:
        sys.stderr.write(f"cannot run {program[0]}: {error}\n")
    return EXIT_CANNOT_RUN


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
