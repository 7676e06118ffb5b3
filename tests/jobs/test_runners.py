"""The job's progress reporter and heartbeat (jobs.runners)."""

from __future__ import annotations

import time

import pytest

from jobs.errors import JobCancelledError
from jobs.models import Job
from jobs.runners import HeartbeatPulse, JobProgress

pytestmark = pytest.mark.django_db


def running(**fields: object) -> Job:
    return Job.objects.create(kind="test", state=Job.State.RUNNING, attempts=1, **fields)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_updates_are_written_at_most_every_interval_and_at_stage_ends():
    job = running()
    clock = Clock()
    progress = JobProgress(str(job.id), attempt=1, write_interval=1.0, clock=clock)
    progress.update("files", 0, 1000)
    for done in range(1, 1000):
        clock.now += 0.0005
        progress.update("files", done, 1000)
        progress.update("bytes", done * 10, 10_000)      # interleaved, as copy_files does
    assert progress.writes == 1, "no second write within the interval"
    clock.now += 1.0
    progress.update("files", 999, 1000)
    assert progress.writes == 2
    progress.update("files", 1000, 1000)
    assert progress.writes == 3, "a stage that completes is written at once"
    progress.update("files", 1000, 1000)
    assert progress.writes == 3, "but only once"
    job.refresh_from_db()
    # The stage that started last ("bytes") gives the bar; every stage is kept.
    assert (job.stage, job.stage_done, job.stage_total, job.progress) == ("bytes", 9990,
                                                                          10_000, 99)
    assert job.stages == {"files": [1000, 1000], "bytes": [9990, 10_000]}
    assert job.heartbeat_at is not None


def test_it_is_callable_like_the_builders_progress_callback():
    job = running()
    progress = JobProgress(str(job.id), attempt=1, write_interval=0)
    progress("nodes", 5, 10)
    job.refresh_from_db()
    assert job.progress == 50 and job.stage == "nodes"


def test_update_raises_once_a_cancel_is_requested():
    job = running()
    progress = JobProgress(str(job.id), attempt=1, write_interval=0)
    progress.update("files", 1, 10)
    Job.objects.filter(id=job.id).update(cancel_requested=True)
    with pytest.raises(JobCancelledError):
        progress.update("files", 2, 10)
    with pytest.raises(JobCancelledError):
        progress.update("files", 3, 10)
    job.refresh_from_db()
    assert job.stage_done == 1


def test_check_asks_the_row_without_progress():
    job = running()
    progress = JobProgress(str(job.id), attempt=1)
    progress.check()
    Job.objects.filter(id=job.id).update(cancel_requested=True)
    with pytest.raises(JobCancelledError):
        progress.check()


@pytest.mark.django_db(transaction=True)
def test_the_pulse_beats_while_the_service_is_silent_and_sees_a_cancel():
    job = running()
    progress = JobProgress(str(job.id), attempt=1)
    with HeartbeatPulse(progress, interval=0.05):
        first = None
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            heartbeat = Job.objects.get(id=job.id).heartbeat_at
            if heartbeat is not None and first is None:
                first = heartbeat
            if first is not None and heartbeat != first:
                break
            time.sleep(0.02)
        else:
            pytest.fail("the heartbeat did not move within 10 s")
        Job.objects.filter(id=job.id).update(cancel_requested=True)
        assert progress.cancelled.wait(timeout=10), "the pulse did not see the cancel"
    with pytest.raises(JobCancelledError):
        progress.update("files", 1, 2)


def test_a_disabled_pulse_starts_no_thread():
    job = running()
    with HeartbeatPulse(JobProgress(str(job.id), attempt=1), interval=0.01, enabled=False) as pulse:
        assert pulse._thread is None


def test_a_cancelled_job_keeps_its_heartbeat_while_it_stops():
    """The reaper must not take a worker that is winding down for a dead one."""
    from datetime import timedelta

    from django.utils import timezone

    old = timezone.now() - timedelta(hours=1)
    job = running(heartbeat_at=old, cancel_requested=True)
    progress = JobProgress(str(job.id), attempt=1)
    with pytest.raises(JobCancelledError):
        progress.check()
    job.refresh_from_db()
    assert job.heartbeat_at > old and job.stage == ""
