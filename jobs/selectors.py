"""Reads of jobs, filtered to what the user may see (others' jobs answer 404, not 403).

    job = get_visible_job(request.user, job_id)       # JobNotFoundError if unknown or not theirs
    jobs = recent_jobs(request.user, states=Job.ACTIVE_STATES)
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from django.utils.translation import gettext

from jobs.errors import JobNotFoundError
from jobs.models import Job, JobQuerySet

# The canonical text of a UUID only: `uuid.UUID` also takes braces, `urn:uuid:` and no dashes.
JOB_ID_PATTERN = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
RECENT_LIMIT = 20


def is_valid_job_id(value: object) -> bool:
    return isinstance(value, str) and JOB_ID_PATTERN.fullmatch(value) is not None


def visible_jobs(user: Any) -> JobQuerySet:
    return Job.objects.visible_to(user).select_related("created_by")


def get_visible_job(user: Any, job_id: object) -> Job:
    text = str(job_id) if job_id is not None else ""
    job = visible_jobs(user).filter(id=text).first() if is_valid_job_id(text) else None
    if job is None:
        raise JobNotFoundError(job_id)
    return job


def filtered_jobs(user: Any, *, states: Iterable[str] | None = None,
                  channel_id: str | None = None, kinds: Iterable[str] | None = None
                  ) -> JobQuerySet:
    jobs = visible_jobs(user)
    if states is not None:
        jobs = jobs.filter(state__in=list(states))
    if channel_id:
        jobs = jobs.filter(channel_id=channel_id)
    if kinds is not None:
        jobs = jobs.filter(kind__in=list(kinds))
    return jobs.order_by("-created_at")


def recent_jobs(user: Any, *, limit: int = RECENT_LIMIT, **filters: Any) -> list[Job]:
    """Running and queued jobs first, then the most recent finished ones."""
    jobs = filtered_jobs(user, **filters)
    active = list(jobs.filter(state__in=Job.ACTIVE_STATES)[:limit])
    finished = list(jobs.exclude(state__in=Job.ACTIVE_STATES)[:max(0, limit - len(active))])
    return active + finished


def result_summary(job: Job) -> str:
    """One line saying what a finished job did, from its `result` ("" if nothing to say)."""
    result = job.result or {}
    parts: list[str] = []
    channel = result.get("channel")
    if isinstance(channel, dict):
        version = {"version": channel.get("version")}
        parts.append(gettext("version %(version)s installed") % version if channel.get("installed")
                     else gettext("version %(version)s was already current") % version)
    for key, place in (("content", gettext("already here")),
                       ("export", gettext("already on the drive"))):
        counts = result.get(key)
        if isinstance(counts, dict):
            already = counts.get("already_present", counts.get("already_on_drive", 0))
            line = gettext("%(copied)s files copied, %(already)s %(place)s") % {
                "copied": counts.get("copied", 0), "already": already, "place": place}
            if counts.get("failures"):
                line += gettext(", %(failures)s failed") % {"failures": counts["failures"]}
            parts.append(line)
    if job.kind == "scan" and "registered" in result:
        parts.append(gettext("%(registered)s registered, %(rejected)s rejected, %(missing)s missing")
                     % {"registered": len(result.get("registered") or []),
                        "rejected": len(result.get("rejected") or {}),
                        "missing": len(result.get("missing") or [])})
    return "; ".join(parts)
