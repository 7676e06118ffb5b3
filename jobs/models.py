"""The state row of a background job: what runs, how far it got, and whether its worker lives.

Huey delivers a task at most once, so the queue alone cannot say whether a job is still running:
the row can. The worker claims the row (queued -> running) atomically, writes a heartbeat while
it works, and records the end; the reaper (jobs.services.reap_stale_jobs) re-queues rows whose
heartbeat stopped.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy


class JobQuerySet(models.QuerySet["Job"]):
    def active(self) -> JobQuerySet:
        return self.filter(state__in=Job.ACTIVE_STATES)

    def visible_to(self, user: object) -> JobQuerySet:
        """Admins see every job; others the jobs they started; anonymous visitors none."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        if getattr(user, "is_admin", False):
            return self
        return self.filter(created_by_id=getattr(user, "pk", None))


class Job(models.Model):
    class State(models.TextChoices):
        QUEUED = "queued", gettext_lazy("queued")
        RUNNING = "running", gettext_lazy("running")
        DONE = "done", gettext_lazy("done")
        FAILED = "failed", gettext_lazy("failed")
        CANCELLED = "cancelled", gettext_lazy("cancelled")

    ACTIVE_STATES = (State.QUEUED, State.RUNNING)
    FINISHED_STATES = (State.DONE, State.FAILED, State.CANCELLED)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=40)
    params = models.JSONField(default=dict, blank=True)
    # The channel the job works on, if any: for the channel page and for one job per channel.
    channel_id = models.CharField(max_length=32, blank=True, db_index=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED,
                             db_index=True)
    progress = models.PositiveSmallIntegerField(default=0)
    stage = models.CharField(max_length=100, blank=True)
    stage_done = models.BigIntegerField(default=0)
    stage_total = models.BigIntegerField(default=0)
    # Latest [done, total] of every stage so far, in the order they started.
    stages = models.JSONField(default=dict, blank=True)
    # One line a person can act on; the traceback goes to the server log, never here.
    error = models.TextField(blank=True)
    result = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # Deliveries that started running: the reaper gives up after JOBS["MAX_ATTEMPTS"].
    attempts = models.PositiveSmallIntegerField(default=0)
    cancel_requested = models.BooleanField(default=False)

    objects = JobQuerySet.as_manager()

    class Meta:
        app_label = "jobs"
        ordering = ("-created_at",)
        indexes = [models.Index(fields=["state", "heartbeat_at"], name="job_state_heartbeat")]

    def __str__(self) -> str:
        return f"{self.kind} {self.id} ({self.state})"

    @property
    def is_active(self) -> bool:
        return self.state in self.ACTIVE_STATES

    @property
    def stage_label(self) -> str:
        from jobs.labels import stage_label

        return stage_label(self.stage)

    @property
    def summary(self) -> str:
        from jobs.selectors import result_summary

        return result_summary(self)
