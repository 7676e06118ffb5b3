"""The reaper: Huey delivers at most once, so a job whose worker died must be retried or failed
by its state row's heartbeat, never left "running" forever."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from jobs.errors import JobCancelledError
from jobs.models import Job
from jobs.runners import JobProgress
from jobs.services import reap_stale_jobs, start_job
from tests.jobs.conftest import STEPS_KIND

pytestmark = pytest.mark.django_db


def running_job(admin_user, *, attempts: int = 1, heartbeat_age: float = 600,
                **params: object) -> Job:
    """A job as a killed worker leaves it: running, its heartbeat `heartbeat_age` seconds old."""
    job = start_job(admin_user, {"kind": STEPS_KIND, **params})
    beat = timezone.now() - timedelta(seconds=heartbeat_age)
    Job.objects.filter(id=job.id).update(state=Job.State.RUNNING, attempts=attempts,
                                         started_at=beat, heartbeat_at=beat, progress=40)
    return job


def test_a_job_whose_heartbeat_stopped_runs_again(steps_kind, admin_user, on_commit):
    job = running_job(admin_user, steps=2)
    with on_commit():
        report = reap_stale_jobs()
        assert Job.objects.get(id=job.id).state == Job.State.QUEUED
    assert report.requeued == [str(job.id)] and not report.failed
    job.refresh_from_db()
    assert job.state == Job.State.DONE, "the retry ran (immediate mode) and finished"
    assert job.attempts == 2 and job.result == {"steps": 2}


def test_a_job_that_keeps_dying_fails_after_three_attempts(steps_kind, admin_user):
    job = running_job(admin_user, attempts=3)
    report = reap_stale_jobs()
    assert report.failed == [str(job.id)] and not report.requeued
    job.refresh_from_db()
    assert job.state == Job.State.FAILED and job.finished_at
    assert "stopped without finishing, 3 times" in job.error
    assert "start the task again" in job.error


def test_the_retry_limit_follows_the_setting(steps_kind, admin_user, settings):
    settings.JOBS = {"MAX_ATTEMPTS": 1}
    job = running_job(admin_user, attempts=1)
    assert reap_stale_jobs().failed == [str(job.id)]


def test_a_live_heartbeat_is_left_alone(steps_kind, admin_user):
    job = running_job(admin_user, heartbeat_age=5)
    report = reap_stale_jobs()
    assert report.requeued == report.failed == report.cancelled == []
    assert Job.objects.get(id=job.id).state == Job.State.RUNNING


def test_the_staleness_follows_the_setting(steps_kind, admin_user, settings):
    settings.JOBS = {"STALE_AFTER_SECONDS": 2}
    job = running_job(admin_user, heartbeat_age=5)
    assert reap_stale_jobs().requeued == [str(job.id)]


def test_a_dead_job_someone_cancelled_ends_cancelled(steps_kind, admin_user):
    job = running_job(admin_user)
    Job.objects.filter(id=job.id).update(cancel_requested=True)
    assert reap_stale_jobs().cancelled == [str(job.id)]
    assert Job.objects.get(id=job.id).state == Job.State.CANCELLED


def test_the_old_worker_stops_when_its_job_was_given_to_another(steps_kind, admin_user):
    """A worker that was only slow, not dead, finds its row re-queued and stops."""
    job = running_job(admin_user, attempts=1)
    progress = JobProgress(str(job.id), attempt=1, write_interval=0)
    progress.update("files", 1, 10)
    reap_stale_jobs(now=timezone.now() + timedelta(minutes=10))
    with pytest.raises(JobCancelledError):
        progress.update("files", 2, 10)
    assert Job.objects.get(id=job.id).stage_done == 1


def test_a_queued_job_whose_message_was_lost_is_enqueued_again(
        steps_kind, admin_user, on_commit):
    job = start_job(admin_user, {"kind": STEPS_KIND})      # never enqueued: no commit
    later = timezone.now() + timedelta(hours=1)
    with on_commit():
        report = reap_stale_jobs(now=later)
    assert report.reenqueued == [str(job.id)]
    assert Job.objects.get(id=job.id).state == Job.State.DONE


def test_old_finished_jobs_are_pruned(steps_kind, admin_user):
    job = start_job(admin_user, {"kind": STEPS_KIND})
    Job.objects.filter(id=job.id).update(state=Job.State.DONE,
                                         finished_at=timezone.now() - timedelta(days=91))
    assert reap_stale_jobs().pruned == 1
    assert not Job.objects.filter(id=job.id).exists()
