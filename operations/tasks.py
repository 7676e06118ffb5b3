"""Huey tasks of operations: the consumer's heartbeat (operations.heartbeat says why).

Written when a worker starts (so `status` is green right after a start, not a minute later) and
every minute by the consumer's scheduler.
"""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import HUEY, periodic_task

from operations.heartbeat import record_consumer_heartbeat


@HUEY.on_startup()
def record_heartbeat_on_startup() -> None:
    record_consumer_heartbeat()


@periodic_task(crontab(minute="*"))
def record_heartbeat_task() -> float:
    return record_consumer_heartbeat().at
