"""The worker side of a job: a progress reporter that writes the job's row, and a heartbeat.

`JobProgress` implements channels.progress.ProgressReporter (`update(stage, done, total)`,
`finish()`) and is also callable like the builder's ProgressCallback, so a service takes it as
`progress=` either way. Each `update()`:

1. raises JobCancelledError if a cancel was seen (so the service stops between two units of
   work and leaves the state a re-run resumes from);
2. writes stage, percent and heartbeat to the row on the first update, when a stage
   completes, or when JOBS["PROGRESS_WRITE_SECONDS"] passed since the last write, and in the
   same query learns whether a cancel was requested or the row is no longer this worker's (the reaper
   gave it to another delivery): both stop the work.

`HeartbeatPulse` keeps the heartbeat going while a service is silent (one big file copied, a
quick_check of a large database) from a thread with its own database connection, and reads
`cancel_requested` so that the next `update()` raises without a query.

    progress = JobProgress(job_id, attempt=1)
    with HeartbeatPulse(progress, interval=10.0):
        import_channel_from_disk(channel_id, drive, progress=progress)
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from django.db import connections
from django.utils import timezone

from jobs.errors import JobCancelledError

logger = logging.getLogger(__name__)
MAX_STAGE_LENGTH = 100


def percent(done: int, total: int) -> int:
    return 100 if total <= 0 else min(100, max(0, done * 100 // total))


class JobProgress:
    def __init__(self, job_id: str, *, attempt: int, write_interval: float = 0.5,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.job_id = job_id
        self.attempt = attempt
        self.write_interval = write_interval
        self.clock = clock
        self.cancelled = threading.Event()
        # Latest (done, total) per stage, in the order the stages started.
        self.stages: dict[str, tuple[int, int]] = {}
        self.completed: set[str] = set()
        self.last_write: float | None = None
        self.writes = 0

    def __call__(self, stage: str, done: int, total: int) -> None:
        self.update(stage, done, total)

    def update(self, stage: str, done: int, total: int) -> None:
        """Record the stage's counts; write them when due (see the module doc).

        Services interleave stages ("files" per file, "bytes" while copying one): a new stage
        name alone does not force a write, or there would be two per file. The job's `stage`
        and `progress` follow the stage that started last ("bytes" once copying begins).
        """
        self.raise_if_cancelled()
        stage = str(stage)[:MAX_STAGE_LENGTH]
        done, total = int(done), int(total)
        self.stages[stage] = (done, total)
        now = self.clock()
        newly_complete = done >= total and stage not in self.completed
        if newly_complete:
            self.completed.add(stage)
        if (newly_complete or self.last_write is None
                or now - self.last_write >= self.write_interval):
            self.last_write = now
            self._write(progress=True)
            self.raise_if_cancelled()

    def finish(self) -> None:
        return None

    def raise_if_cancelled(self) -> None:
        if self.cancelled.is_set():
            raise JobCancelledError(self.job_id)

    def check(self) -> None:
        """Ask the row now (for handlers with long silent steps between units)."""
        self._write(progress=False)
        self.raise_if_cancelled()

    def _write(self, *, progress: bool) -> None:
        fields: dict[str, Any] = {"heartbeat_at": timezone.now()}
        if progress and self.stages:
            current = next(reversed(self.stages))
            done, total = self.stages[current]
            fields.update(stage=current, stage_done=done, stage_total=total,
                          progress=percent(done, total),
                          stages={name: list(counts) for name, counts in self.stages.items()})
        self.writes += 1
        if not beat(self.job_id, self.attempt, **fields):
            self.cancelled.set()


def beat(job_id: str, attempt: int, **fields: Any) -> bool:
    """Write `fields` to the row if it is still this delivery's and not cancelled.

    False means stop: a cancel was requested, or the row was re-queued, reaped or finished.
    After a cancel the heartbeat alone is still written: this worker is alive and stopping
    (it may be inside one long copy), so the reaper must not take it for dead meanwhile.
    """
    from jobs.models import Job

    row = Job.objects.filter(id=job_id, state=Job.State.RUNNING, attempts=attempt)
    if row.filter(cancel_requested=False).update(**fields):
        return True
    row.update(heartbeat_at=fields.get("heartbeat_at") or timezone.now())
    return False


class HeartbeatPulse:
    """A daemon thread that beats every `interval` seconds until the `with` block ends."""

    def __init__(self, progress: JobProgress, *, interval: float, enabled: bool = True) -> None:
        self.progress = progress
        self.interval = interval
        self.enabled = enabled
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> HeartbeatPulse:
        if self.enabled:
            self._thread = threading.Thread(target=self._run, daemon=True,
                                            name=f"job-heartbeat-{self.progress.job_id}")
            self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=max(5.0, self.interval))

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.interval):
                try:
                    if not beat(self.progress.job_id, self.progress.attempt,
                                heartbeat_at=timezone.now()):
                        self.progress.cancelled.set()
                except Exception:  # noqa: BLE001 - a missed beat is retried next interval
                    logger.warning("heartbeat of job %s failed", self.progress.job_id,
                                   exc_info=True)
        finally:
            connections.close_all()
