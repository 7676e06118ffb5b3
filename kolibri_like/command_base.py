"""The base of our management commands: errors become INTERFACE.md's exit codes, never tracebacks.

A domain error carries its exit code as the class attribute `exit_code` (3 not found, 4 invalid
input, 5 disk full, 6 I/O, 7 conflict); the command prints its message and exits with it.
Anything else is a bug: exit 1, and the message says where the log with the traceback is.
Ctrl-C and SIGTERM exit 130.

    class Command(ProductCommand):
        def run(self, *args, **options) -> None:
            ...
"""

from __future__ import annotations

import errno
import logging
import signal
import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

logger = logging.getLogger("kolibri_like.commands")

EXIT_UNEXPECTED = 1
EXIT_USAGE = 2
EXIT_NOT_FOUND = 3
EXIT_INVALID = 4
EXIT_NO_SPACE = 5
EXIT_IO = 6
EXIT_CONFLICT = 7
EXIT_INTERRUPTED = 130


def exit_code_for(error: BaseException) -> int:
    code = getattr(error, "exit_code", None)
    if isinstance(code, int):
        return code
    if isinstance(error, OSError):
        if error.errno == errno.ENOSPC:
            return EXIT_NO_SPACE
        if error.errno == errno.ENOENT:
            return EXIT_NOT_FOUND
        return EXIT_IO
    return EXIT_UNEXPECTED


class ProductCommand(BaseCommand):
    """Subclasses implement `run(*args, **options)` instead of `handle`."""

    # Django's system checks import every URLconf and API module first: seconds of start-up
    # on a small box for each command an admin or a script runs. `manage.py check` (and the
    # test suite) still run them.
    requires_system_checks: list[str] = []

    def run(self, *args: Any, **options: Any) -> None:
        raise NotImplementedError

    def handle(self, *args: Any, **options: Any) -> None:
        previous = signal.getsignal(signal.SIGTERM)

        def on_sigterm(signum: int, frame: Any) -> None:
            raise KeyboardInterrupt

        try:
            signal.signal(signal.SIGTERM, on_sigterm)
        except ValueError:  # not the main thread (call_command from a worker thread)
            previous = None
        try:
            self.run(*args, **options)
        except CommandError:
            raise
        except KeyboardInterrupt:
            raise CommandError("Interrupted; run the command again to resume.",
                               returncode=EXIT_INTERRUPTED) from None
        except Exception as error:  # noqa: BLE001 - every error gets an exit code
            code = exit_code_for(error)
            if code == EXIT_UNEXPECTED:
                logger.exception("command %s failed", self.__class__.__module__)
                log_path = settings.LOG_DIR / "kolibri-like.log"
                raise CommandError(
                    f"Unexpected error ({error.__class__.__name__}: {error}). This is a bug; "
                    f"the details are in {log_path}.", returncode=code) from None
            raise CommandError(str(error), returncode=code) from None
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)

    def write_line(self, text: str) -> None:
        self.stdout.write(text)
        self.stdout.flush()


def stderr_is_terminal() -> bool:
    return sys.stderr.isatty()
