"""A job's life in Huey's immediate mode: queued, running, then done, failed or cancelled."""

from __future__ import annotations

import pytest

from jobs.errors import (
    InvalidJobParamsError,
    JobConflictError,
    JobNotFoundError,
    JobPermissionError,
    UnknownJobKindError,
)
from jobs.models import Job
from jobs.services import cancel_job, run_job, start_job
from tests.jobs.conftest import STEPS_KIND

pytestmark = pytest.mark.django_db


def test_a_job_runs_to_done_after_the_commit(steps_kind, admin_user, on_commit):
    with on_commit() as callbacks:
        job = start_job(admin_user, {"kind": STEPS_KIND, "steps": 4})
        assert Job.objects.get(id=job.id).state == Job.State.QUEUED, "enqueued only on commit"
    assert len(callbacks) == 1
    job.refresh_from_db()
    assert job.state == Job.State.DONE
    assert job.progress == 100 and job.stage == "steps"
    assert (job.stage_done, job.stage_total) == (4, 4)
    assert job.result == {"steps": 4}
    assert job.attempts == 1 and job.error == ""
    assert job.created_by == admin_user
    assert job.started_at and job.finished_at and job.enqueued_at
    assert job.started_at <= job.finished_at


def test_a_failed_job_records_one_line_of_its_error(steps_kind, admin_user, on_commit):
    with on_commit():
        job = start_job(admin_user, {"kind": STEPS_KIND, "steps": 5, "fail_at": 2})
    job.refresh_from_db()
    assert job.state == Job.State.FAILED
    assert job.error == "step 2 failed: the drive was removed"
    assert job.stage_done == 1 and job.progress == 20
    assert job.finished_at is not None


def test_a_bug_says_where_the_details_are_not_the_traceback(steps_kind, admin_user, on_commit):
    with on_commit():
        job = start_job(admin_user, {"kind": STEPS_KIND, "crash_at": 0})
    job.refresh_from_db()
    assert job.state == Job.State.FAILED
    assert job.error.startswith("Unexpected error (KeyError: 'missing')")
    assert "server log" in job.error
    assert "Traceback" not in job.error and "\n" not in job.error


def test_cancelling_a_queued_job_ends_it_at_once(steps_kind, admin_user):
    job = start_job(admin_user, {"kind": STEPS_KIND})     # the commit never comes: still queued
    cancelled = cancel_job(admin_user, str(job.id))
    assert cancelled.state == Job.State.CANCELLED and cancelled.finished_at
    assert run_job(str(job.id)) is None, "a late delivery does nothing"
    job.refresh_from_db()
    assert job.state == Job.State.CANCELLED and job.attempts == 0


def test_cancelling_a_running_job_stops_it_at_its_next_update(steps_kind, admin_user, on_commit):
    with on_commit():
        job = start_job(admin_user, {"kind": STEPS_KIND, "steps": 10, "cancel_at": 3})
    job.refresh_from_db()
    assert job.state == Job.State.CANCELLED
    assert job.stage_done == 2, "steps 0-2 reported, the update of step 3 raised"
    assert job.result == {} and job.error == ""


def test_cancelling_a_running_job_flags_it(steps_kind, admin_user):
    job = start_job(admin_user, {"kind": STEPS_KIND})
    Job.objects.filter(id=job.id).update(state=Job.State.RUNNING, attempts=1)
    cancelled = cancel_job(admin_user, job.id)
    assert cancelled.state == Job.State.RUNNING and cancelled.cancel_requested


def test_cancelling_twice_is_fine_but_a_finished_job_cannot_be_cancelled(
        steps_kind, admin_user, on_commit):
    queued = start_job(admin_user, {"kind": STEPS_KIND})
    cancel_job(admin_user, queued.id)
    assert cancel_job(admin_user, queued.id).state == Job.State.CANCELLED
    with on_commit():
        finished = start_job(admin_user, {"kind": STEPS_KIND})
    with pytest.raises(JobConflictError, match="already ended"):
        cancel_job(admin_user, finished.id)


def test_a_second_delivery_of_a_running_job_does_nothing(steps_kind, admin_user):
    job = start_job(admin_user, {"kind": STEPS_KIND})
    Job.objects.filter(id=job.id).update(state=Job.State.RUNNING, attempts=1)
    assert run_job(str(job.id)) is None
    job.refresh_from_db()
    assert job.state == Job.State.RUNNING and job.attempts == 1


def test_a_kind_this_worker_does_not_know_fails_clearly(admin_user):
    job = Job.objects.create(kind="no-such-kind")
    assert run_job(str(job.id)) == Job.State.FAILED
    job.refresh_from_db()
    assert "unknown task kind 'no-such-kind'" in job.error


def test_start_checks_kind_role_and_params(steps_kind, admin_user, learner_user):
    with pytest.raises(UnknownJobKindError, match="use one of"):
        start_job(admin_user, {"kind": "format-the-disk"})
    with pytest.raises(InvalidJobParamsError) as error:
        start_job(admin_user, {"kind": STEPS_KIND, "steps": "many"})
    assert error.value.field == "steps"
    with pytest.raises(JobPermissionError):
        start_job(learner_user, {"kind": "scan"})
    assert Job.objects.count() == 0


def test_one_active_job_per_channel(admin_user, tmp_path):
    channel_id = "c" * 32
    first = start_job(admin_user, {"kind": "export", "channel_id": channel_id,
                                   "drive": str(tmp_path)})
    with pytest.raises(JobConflictError, match=str(first.id)):
        start_job(admin_user, {"kind": "export", "channel_id": channel_id,
                               "drive": str(tmp_path)})
    cancel_job(admin_user, first.id)
    second = start_job(admin_user, {"kind": "export", "channel_id": channel_id,
                                    "drive": str(tmp_path)})
    assert second.channel_id == channel_id and second.params["drive"] == str(tmp_path)


def test_others_jobs_are_not_found(steps_kind, author_user, learner_user, admin_user):
    job = start_job(author_user, {"kind": STEPS_KIND})
    with pytest.raises(JobNotFoundError):
        cancel_job(learner_user, job.id)
    assert cancel_job(author_user, job.id).state == Job.State.CANCELLED
    with pytest.raises(JobNotFoundError):
        cancel_job(admin_user, "{" + str(job.id) + "}")
