"""Huey tasks of jobs: shims over jobs.services (they take ids, never instances).

    run_job_task(str(job.id))      # jobs.services.enqueue_job does this after the commit
"""

from __future__ import annotations

from typing import Any

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from jobs.services import reap_stale_jobs, run_job


@db_task()
def run_job_task(job_id: str) -> str | None:
    state = run_job(job_id)
    return str(state) if state is not None else None


@db_periodic_task(crontab(minute="*"))
def reap_stale_jobs_task() -> dict[str, Any]:
    return reap_stale_jobs().as_dict()
