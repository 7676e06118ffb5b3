"""Options of the jobs app, read from the optional `settings.JOBS` dict with defaults.

Read on every call (a dict lookup), so `override_settings(JOBS=...)` in tests just works.

    job_setting("STALE_AFTER_SECONDS")    # 90 unless settings.JOBS says otherwise
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # The worker writes a heartbeat at least this often while a job runs.
    "HEARTBEAT_SECONDS": 10.0,
    # A running job whose heartbeat is older than this lost its worker (Huey delivers at most
    # once: a killed worker loses the task); the reaper re-queues it.
    "STALE_AFTER_SECONDS": 90.0,
    # Deliveries of one job before the reaper gives up and marks it failed.
    "MAX_ATTEMPTS": 3,
    # A queued job whose message was lost (a consumer killed between taking it and starting)
    # is enqueued again after this long; the atomic claim makes a duplicate harmless.
    "REQUEUE_QUEUED_AFTER_SECONDS": 600.0,
    # Progress is written at most this often (plus on every stage change and at the end).
    "PROGRESS_WRITE_SECONDS": 0.5,
}


def job_setting(name: str) -> Any:
    overrides = getattr(settings, "JOBS", None) or {}
    if name not in DEFAULTS:
        raise KeyError(f"unknown jobs setting {name!r}")
    return overrides.get(name, DEFAULTS[name])
