"""Progress of long channel operations: one protocol, a terminal bar, plain lines for logs.

Services report `update(stage, done, total)` and know nothing about who listens: a command
shows a bar on a terminal and plain lines otherwise (a log file, `make run`'s output, CI);
a background task can implement the same protocol to fill its task state. The builder's
`ProgressCallback` has the same signature, so `reporter.update` can be passed as it is.

    reporter = progress_reporter(write=sys.stderr.write, flush=sys.stderr.flush,
                                 is_terminal=sys.stderr.isatty())
    generate_demo_channel(nodes=500, seed=1, progress=reporter.update)
    reporter.finish()

Both reporters throttle themselves (a 50,000-node build calls `update` ~200,000 times) and
print each stage's total when it completes.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Protocol

# What each stage counts, in the words a user reads.
STAGE_LABELS = {
    "media": "media generated",
    "thumbnails": "nodes planned",
    "files": "files stored",
    "nodes": "nodes written",
    "bytes": "bytes copied",
    "database": "database copied",
}
BAR_WIDTH = 30
BAR_INTERVAL = 0.1
LINE_INTERVAL = 5.0
LINE_STEP_PERCENT = 10


class ProgressReporter(Protocol):
    def update(self, stage: str, done: int, total: int) -> None: ...

    def finish(self) -> None: ...


def stage_label(stage: str) -> str:
    return STAGE_LABELS.get(stage, stage)


def human_size(size: int) -> str:
    """1536 -> "1.5 KB": binary multiples, the way file managers show sizes."""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024:
            return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TB"


def percent(done: int, total: int) -> int:
    return 100 if total <= 0 else min(100, max(0, done * 100 // total))


class NullProgress:
    """For callers that do not show progress."""

    def update(self, stage: str, done: int, total: int) -> None:
        return None

    def finish(self) -> None:
        return None


class TerminalProgressBar:
    """One line per stage, redrawn in place with a carriage return at most 10 times a second."""

    def __init__(self, write: Callable[[str], object], flush: Callable[[], object],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.write, self.flush, self.clock = write, flush, clock
        self.stage: str | None = None
        self.last_draw = 0.0
        self.line_open = False

    def update(self, stage: str, done: int, total: int) -> None:
        if stage != self.stage:
            self._end_line()
            self.stage = stage
            self.last_draw = 0.0
        now = self.clock()
        if done < total and now - self.last_draw < BAR_INTERVAL:
            return
        self.last_draw = now
        filled = BAR_WIDTH * percent(done, total) // 100
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        self.write(f"\r{stage_label(stage):<16} [{bar}] {done:>7,}/{total:,} "
                   f"{percent(done, total):>3}%")
        self.line_open = True
        if done >= total:
            self._end_line()
        self.flush()

    def _end_line(self) -> None:
        if self.line_open:
            self.write("\n")
            self.line_open = False

    def finish(self) -> None:
        self._end_line()
        self.flush()


class PlainProgressLines:
    """A line when a stage starts, every 10% or 5 s (whichever comes later), and at its end.

    Each line says how long the stage has run, so a log shows where the time went.
    """

    def __init__(self, write: Callable[[str], object], flush: Callable[[], object],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.write, self.flush, self.clock = write, flush, clock
        self.stage: str | None = None
        self.stage_started = 0.0
        self.last_percent = 0
        self.last_line: float | None = None
        self.finished_stage = False

    def update(self, stage: str, done: int, total: int) -> None:
        now = self.clock()
        if stage != self.stage:
            self.stage, self.stage_started, self.finished_stage = stage, now, False
            self.last_line = None
        if self.finished_stage:
            return
        current, complete = percent(done, total), done >= total
        if not complete and self.last_line is not None and (
                current < self.last_percent + LINE_STEP_PERCENT
                or now - self.last_line < LINE_INTERVAL):
            return
        self.last_percent, self.last_line, self.finished_stage = current, now, complete
        self.write(f"{stage_label(stage)}: {done:,}/{total:,} ({current}%, "
                   f"{now - self.stage_started:.1f} s)\n")
        self.flush()

    def finish(self) -> None:
        self.flush()


def progress_reporter(*, write: Callable[[str], object], flush: Callable[[], object],
                      is_terminal: bool) -> TerminalProgressBar | PlainProgressLines:
    """The bar on a terminal, plain lines otherwise (INTERFACE.md, command line)."""
    if is_terminal:
        return TerminalProgressBar(write, flush)
    return PlainProgressLines(write, flush)


def command_progress(stderr: Any) -> TerminalProgressBar | PlainProgressLines:
    """The reporter for a management command's `self.stderr` (Django's OutputWrapper).

    Written raw: no line ending added, and not coloured red as Django colours stderr.
    """
    return progress_reporter(
        write=lambda text: stderr.write(text, style_func=_unstyled, ending=""),
        flush=stderr.flush, is_terminal=stderr.isatty())


def _unstyled(text: str) -> str:
    return text
