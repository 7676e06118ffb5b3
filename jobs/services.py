"""Writes on jobs: start, run (in the worker), cancel, reap.

    job = start_job(request.user, {"kind": "import", "source": "disk", "channel_id": ..., ...})
    run_job(job_id)              # in the worker, through the Huey task jobs.tasks.run_job_task
    cancel_job(request.user, job_id)
    reap_stale_jobs()            # every minute: jobs whose worker died are retried, then failed

A job row goes queued -> running -> done | failed | cancelled. Every change of state is one
conditional UPDATE (`WHERE state = ... AND attempts = ...`), so a late delivery, a worker that
lost its row to the reaper and a cancel can never overwrite each other's outcome.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from functools import partial
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext

from jobs.conf import job_setting
from jobs.errors import (
    JobCancelledError,
    JobConflictError,
    JobPermissionError,
)
from jobs.kinds import JobContext, get_kind
from jobs.models import Job
from jobs.runners import HeartbeatPulse, JobProgress
from jobs.selectors import get_visible_job

logger = logging.getLogger(__name__)
MAX_ERROR_LENGTH = 1000
REAP_BATCH = 500
KEEP_FINISHED_DAYS = 90


def start_job(user: Any, payload: Mapping[str, Any]) -> Job:
    """Check the kind, who asks and the parameters; save the row; enqueue after the commit."""
    kind = get_kind(payload.get("kind"))
    is_admin = bool(getattr(user, "is_authenticated", False) and getattr(user, "is_admin", False))
    if kind.admin_only and not is_admin:
        raise JobPermissionError()
    params = kind.clean(payload)
    if not kind.may_start(user, params):
        raise JobPermissionError(gettext("You may not start this task on this channel."))
    channel_id = kind.channel_id(params)
    creator = user if getattr(user, "is_authenticated", False) else None
    with transaction.atomic():
        if channel_id:
            running = Job.objects.active().filter(channel_id=channel_id).first()
            if running is not None:
                raise JobConflictError(gettext(
                    "task %(job_id)s (%(kind)s) on channel %(channel_id)s is still %(state)s; "
                    "wait for it or cancel it first") % {
                        "job_id": running.id, "kind": running.kind, "channel_id": channel_id,
                        "state": running.get_state_display()})
        job = Job.objects.create(kind=kind.name, params=params, channel_id=channel_id,
                                 created_by=creator)
        job_id = str(job.id)
        transaction.on_commit(lambda: enqueue_job(job_id))
    return job


def enqueue_job(job_id: str) -> None:
    """Hand the job to the queue; if the queue cannot take it, say so on the job."""
    from jobs.tasks import run_job_task

    Job.objects.filter(id=job_id, state=Job.State.QUEUED).update(enqueued_at=timezone.now())
    try:
        run_job_task(job_id)
    except Exception as error:  # noqa: BLE001 - a queue that is down must show on the job
        logger.exception("could not enqueue job %s", job_id)
        Job.objects.filter(id=job_id, state=Job.State.QUEUED).update(
            state=Job.State.FAILED, finished_at=timezone.now(),
            error=gettext("The task queue did not accept the task: %(error)s")
            % {"error": one_line(error)})


def run_job(job_id: str) -> Job.State | None:
    """Run one delivery of a job in this worker. Returns the state it ended in, or None if the
    job was not waiting (cancelled meanwhile, or taken by another delivery)."""
    now = timezone.now()
    claimed = Job.objects.filter(id=job_id, state=Job.State.QUEUED).update(
        state=Job.State.RUNNING, started_at=now, heartbeat_at=now, finished_at=None,
        attempts=F("attempts") + 1, stage="starting", progress=0, stage_done=0, stage_total=0,
        stages={}, error="")
    if not claimed:
        logger.info("job %s is not queued any more; this delivery does nothing", job_id)
        return None
    job = Job.objects.get(id=job_id)
    progress = JobProgress(job_id, attempt=job.attempts,
                           write_interval=float(job_setting("PROGRESS_WRITE_SECONDS")))
    # The pulse thread has its own connection, which sees only committed rows: inside an outer
    # transaction (Huey's immediate mode in tests) it would see nothing, so it stays off there.
    pulse = HeartbeatPulse(progress, interval=float(job_setting("HEARTBEAT_SECONDS")),
                           enabled=not transaction.get_connection().in_atomic_block)
    try:
        kind = get_kind(job.kind)
        context = JobContext(job_id=job_id, params=dict(job.params), progress=progress,
                             created_by_id=job.created_by_id)
        with pulse:
            result = kind.handler(context)
    except JobCancelledError:
        logger.info("job %s (%s) cancelled", job_id, job.kind)
        return _finish(job_id, job.attempts, Job.State.CANCELLED, stage="cancelled")
    except Exception as error:  # noqa: BLE001 - every failure is recorded on the job
        logger.exception("job %s (%s) failed", job_id, job.kind)
        return _finish(job_id, job.attempts, Job.State.FAILED, error=one_line(error))
    return _finish(job_id, job.attempts, Job.State.DONE, progress=100,
                   result=dict(result or {}))


def _finish(job_id: str, attempt: int, state: Job.State, **fields: Any) -> Job.State | None:
    now = timezone.now()
    updated = Job.objects.filter(id=job_id, state=Job.State.RUNNING, attempts=attempt).update(
        state=state, finished_at=now, heartbeat_at=now, **fields)
    if not updated:
        logger.warning("job %s changed hands before it ended (%s not recorded)", job_id, state)
        return None
    return state


def cancel_job(user: Any, job_id: object) -> Job:
    """Queued: cancelled at once. Running: flagged; its reporter raises at the next update()
    and the job ends cancelled. Cancelling a cancelled job is fine; a finished one is a 409."""
    job = get_visible_job(user, job_id)
    now = timezone.now()
    with transaction.atomic():
        if Job.objects.filter(id=job.id, state=Job.State.QUEUED).update(
                state=Job.State.CANCELLED, cancel_requested=True, finished_at=now,
                stage="cancelled"):
            pass
        elif Job.objects.filter(id=job.id, state=Job.State.RUNNING).update(
                cancel_requested=True):
            pass
        else:
            job.refresh_from_db()
            if job.state != Job.State.CANCELLED:
                raise JobConflictError(gettext(
                    "task %(job_id)s already ended (%(state)s); there is nothing to cancel")
                    % {"job_id": job.id, "state": job.get_state_display()})
    job.refresh_from_db()
    return job


@dataclass
class ReapReport:
    requeued: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    reenqueued: list[str] = field(default_factory=list)
    pruned: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def reap_stale_jobs(*, now: datetime | None = None) -> ReapReport:
    """Deal with jobs whose worker is gone (Huey delivers at most once).

    1. Running jobs whose heartbeat is older than JOBS["STALE_AFTER_SECONDS"]: cancelled if a
       cancel was asked, failed after JOBS["MAX_ATTEMPTS"] deliveries, else queued again and
       enqueued after the commit (the handlers resume: imports and exports skip what is done).
    2. Queued jobs enqueued longer ago than JOBS["REQUEUE_QUEUED_AFTER_SECONDS"] are enqueued
       again: a message lost between the queue and the claim would leave them queued forever;
       a duplicate message finds the job not queued and does nothing.
    3. Finished jobs older than 90 days are deleted.
    Each step handles at most REAP_BATCH rows per call; the next minute takes the rest.
    """
    now = now or timezone.now()
    report = ReapReport()
    stale_before = now - timedelta(seconds=float(job_setting("STALE_AFTER_SECONDS")))
    max_attempts = int(job_setting("MAX_ATTEMPTS"))
    stale = (Job.objects.filter(state=Job.State.RUNNING)
             .filter(Q(heartbeat_at__lt=stale_before)
                     | Q(heartbeat_at__isnull=True, started_at__lt=stale_before))
             .order_by("heartbeat_at")[:REAP_BATCH])
    for job in stale:
        _reap_one(job, now, max_attempts, report)
    requeue_before = now - timedelta(seconds=float(job_setting("REQUEUE_QUEUED_AFTER_SECONDS")))
    waiting = (Job.objects.filter(state=Job.State.QUEUED)
               .filter(Q(enqueued_at__lt=requeue_before)
                       | Q(enqueued_at__isnull=True, created_at__lt=requeue_before))
               .values_list("id", flat=True)[:REAP_BATCH])
    for job_id in waiting:
        report.reenqueued.append(str(job_id))
        transaction.on_commit(partial(enqueue_job, str(job_id)))
    old = Job.objects.filter(state__in=Job.FINISHED_STATES,
                             finished_at__lt=now - timedelta(days=KEEP_FINISHED_DAYS))
    report.pruned = old.delete()[0]
    return report


def _reap_one(job: Job, now: datetime, max_attempts: int, report: ReapReport) -> None:
    row = Job.objects.filter(id=job.id, state=Job.State.RUNNING, attempts=job.attempts)
    if job.cancel_requested:
        if row.update(state=Job.State.CANCELLED, finished_at=now, stage="cancelled"):
            report.cancelled.append(str(job.id))
    elif job.attempts >= max_attempts:
        if row.update(state=Job.State.FAILED, finished_at=now, error=(
                f"The worker running this task stopped without finishing, {job.attempts} times "
                "(killed, out of memory or a power cut?). Nothing half-done was installed; "
                "start the task again, and see the server log if it keeps stopping.")):
            report.failed.append(str(job.id))
    elif row.update(state=Job.State.QUEUED, stage="waiting to be retried", enqueued_at=None):
        job_id = str(job.id)
        report.requeued.append(job_id)
        logger.warning("job %s lost its worker (attempt %s); queued again", job_id, job.attempts)
        transaction.on_commit(lambda: enqueue_job(job_id))


def one_line(error: BaseException) -> str:
    """The error's message on one line. Domain errors speak for themselves; anything else is a
    bug, and the line says where the traceback is."""
    message = " ".join(str(error).split())
    if not _is_expected(error):
        message = (f"Unexpected error ({error.__class__.__name__}: {message}); the details are "
                   "in the server log.")
    if not message:
        message = error.__class__.__name__
    return message[:MAX_ERROR_LENGTH]


def _is_expected(error: BaseException) -> bool:
    code = getattr(error, "exit_code", None)
    return (isinstance(code, int) and code != 1) or isinstance(error, OSError)
