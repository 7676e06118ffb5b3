"""Hourly housekeeping of authoring: a thin shim over authoring.collector."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from authoring.collector import collect_upload_zombies


@db_periodic_task(crontab(minute="37"))
def collect_upload_zombies_task() -> dict[str, object]:
    """`collectuploads`, every hour."""
    return collect_upload_zombies().as_dict()
