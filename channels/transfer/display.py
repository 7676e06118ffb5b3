"""The command line's view of a transfer: files and bytes together on one line.

Transfers report two counters through the one progress protocol (`update(stage, done,
total)`): stage "files" (files done of the files chosen) and stage "bytes" (bytes copied of the
bytes to copy), plus "database" (bytes of a database copy). The generic reporters of
`channels.progress` draw one stage per line, which would start a new line at every file here;
this view keeps the latest of each and draws them together: in place on a terminal, as a plain
line every few seconds otherwise (logs, CI).

    display = TransferProgressDisplay(self.stderr)
    import_content_from_disk(channel_id, drive, progress=display)
    display.finish()
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from channels.progress import human_size, percent
from channels.transfer.errors import FilesFailedError

TERMINAL_INTERVAL = 0.1
LINE_INTERVAL = 5.0


class TransferProgressDisplay:
    def __init__(self, stderr: Any, clock: Callable[[], float] = time.monotonic) -> None:
        self.stderr, self.clock = stderr, clock
        self.is_terminal = bool(stderr.isatty())
        self.counters: dict[str, tuple[int, int]] = {}
        self.last_draw: float | None = None
        self.line_open = False
        self.width = 0

    def update(self, stage: str, done: int, total: int) -> None:
        self.counters[stage] = (done, total)
        now = self.clock()
        interval = TERMINAL_INTERVAL if self.is_terminal else LINE_INTERVAL
        finished = stage == "files" and done >= total
        if self.last_draw is not None and now - self.last_draw < interval and not finished:
            return
        self.last_draw = now
        self._draw(self.text())

    def text(self) -> str:
        parts = []
        if "database" in self.counters:
            done, _total = self.counters["database"]
            parts.append(f"database {human_size(done)}")
        if "files" in self.counters:
            done, total = self.counters["files"]
            parts.append(f"files {done:,}/{total:,}")
        if "bytes" in self.counters:
            done, total = self.counters["bytes"]
            parts.append(f"{human_size(done)} of {human_size(total)} ({percent(done, total)}%)")
        return ", ".join(parts)

    def _draw(self, text: str) -> None:
        if self.is_terminal:
            self.width = max(self.width, len(text))
            self._write("\r" + text.ljust(self.width))
            self.line_open = True
        else:
            self._write(text + "\n")
        self.stderr.flush()

    def _write(self, text: str) -> None:
        self.stderr.write(text, style_func=_unstyled, ending="")

    def finish(self) -> None:
        if self.line_open:
            self._write("\n")
            self.line_open = False
        self.stderr.flush()


def _unstyled(text: str) -> str:
    return text


def failure_lines(failures: list[Any], limit: int = 50) -> list[str]:
    """One line per failed file (the first `limit`), for stderr."""
    lines = [f"  {failure.name}: {failure.reason}" for failure in failures[:limit]]
    if len(failures) > limit:
        lines.append(f"  ... and {len(failures) - limit} more")
    return lines


@contextmanager
def reporting_failed_files(command: Any, display: TransferProgressDisplay,
                           summary: Callable[[Any], str], result_type: type,
                           verb: str) -> Iterator[None]:
    """Around a file transfer in a command: on FilesFailedError, print the partial summary and
    the files that failed (then let the error give the exit code); always end the progress."""
    try:
        yield
    except FilesFailedError as error:
        display.finish()
        if isinstance(error.result, result_type):
            command.write_line(summary(error.result))
        command.stderr.write(f"These files were not {verb}:")
        for line in failure_lines(error.failures):
            command.stderr.write(line)
        raise
    finally:
        display.finish()
