"""The task consumer's heartbeat: a timestamp the consumer writes into the task queue's own
key-value store when it starts and then every minute (operations.tasks).

Why in the queue and not in the default database or a file: the web server, `kolibri-like
status` and a consumer on another machine (Redis) all reach the queue, so the heartbeat proves
two things at once: the queue answers, and some consumer is taking tasks from it.

    record_consumer_heartbeat()
    beat = last_consumer_heartbeat()      # None if no consumer ever reported
    beat.age_seconds(), beat.host, beat.pid
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass
from typing import Any

HEARTBEAT_KEY = "operations:consumer-heartbeat"


@dataclass(frozen=True)
class Heartbeat:
    at: float
    host: str
    pid: int

    def age_seconds(self, now: float | None = None) -> float:
        return (time.time() if now is None else now) - self.at


def _huey() -> Any:
    from huey.contrib.djhuey import HUEY

    return HUEY


def record_consumer_heartbeat(now: float | None = None) -> Heartbeat:
    beat = Heartbeat(at=time.time() if now is None else now, host=socket.gethostname(),
                     pid=os.getpid())
    _huey().put(HEARTBEAT_KEY, {"at": beat.at, "host": beat.host, "pid": beat.pid})
    return beat


def last_consumer_heartbeat() -> Heartbeat | None:
    """The latest heartbeat, read without removing it (Huey's `get` pops unless `peek`)."""
    value = _huey().get(HEARTBEAT_KEY, peek=True)
    if not isinstance(value, dict):
        return None
    try:
        return Heartbeat(at=float(value["at"]), host=str(value["host"]), pid=int(value["pid"]))
    except (KeyError, TypeError, ValueError):
        return None


def forget_consumer_heartbeat() -> None:
    _huey().get(HEARTBEAT_KEY, peek=False)
