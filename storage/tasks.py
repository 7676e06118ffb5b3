"""Periodic housekeeping of the file store: thin shims over `storage.gc` and `storage.temp`.

Hourly, at different minutes so the two never start together. A collection that finds the
collector lock held (a `verifystorage` running) is skipped, not queued: the next hour runs.

    collect_garbage_task()   # what the consumer runs at minute 17
"""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from storage.gc import StorageBusyError, collect_garbage
from storage.temp import purge_temp


@db_periodic_task(crontab(minute="17"))
def collect_garbage_task() -> dict[str, object]:
    """`gcstorage`, every hour."""
    try:
        return collect_garbage().as_dict()
    except StorageBusyError as error:
        return {"skipped": str(error)}


@db_periodic_task(crontab(minute="47"))
def purge_temp_task() -> dict[str, object]:
    """`purgetemp`, every hour."""
    return purge_temp().as_dict()
