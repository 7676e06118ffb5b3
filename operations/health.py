"""Is this server healthy? The checks behind `GET /healthz/` and `kolibri-like status`.

Each check answers ok, warning or failed, with a message and, when not ok, what to do. The server
is healthy when no check failed (a warning still answers 200: it asks for attention soon).

| check               | fails when                                                          |
|---------------------|---------------------------------------------------------------------|
| `database`          | the default database does not answer `SELECT 1`                     |
| `channel_databases` | `CONTENT_DIR/databases` is missing or unreadable (drive unmounted?) |
| `storage_space`     | less than FREE_SPACE_MINIMUM_BYTES (500 MiB) free under the store;  |
|                     | a warning below FREE_SPACE_WARNING_BYTES (2 GiB)                    |
| `task_queue`        | the queue (SQLite file or Redis) does not answer                    |
| `task_consumer`     | no consumer heartbeat for HEARTBEAT_MAX_AGE_SECONDS (3 min) and no  |
|                     | job with a recent heartbeat of its own (both workers busy is fine)  |
| `ffmpeg`            | no ffmpeg binary is found (media.ffmpeg.ffmpeg_binary)              |

A server started with `--no-consumer` is judged like any other: its tasks run only if a consumer
runs elsewhere, and that consumer writes the same heartbeat into the shared queue. If none does,
uploads never encode and imports never start, so the check fails and says how to start one.

    report = run_health_checks()
    report.healthy, report.as_dict()
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connections
from django.utils import timezone
from django.utils.translation import gettext, ngettext

OK, WARNING, FAILED = "ok", "warning", "failed"
FREE_SPACE_WARNING_BYTES = 2 * 1024**3
FREE_SPACE_MINIMUM_BYTES = 500 * 1024**2
HEARTBEAT_MAX_AGE_SECONDS = 180.0


@dataclass(frozen=True)
class CheckResult:
    name: str
    status: str
    message: str
    action: str = ""

    @property
    def failed(self) -> bool:
        return self.status == FAILED


@dataclass(frozen=True)
class HealthReport:
    checks: list[CheckResult] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return not any(check.failed for check in self.checks)

    @property
    def failed_names(self) -> list[str]:
        return [check.name for check in self.checks if check.failed]

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": OK if self.healthy else FAILED,
            "failed": self.failed_names,
            "checks": {check.name: {"status": check.status, "message": check.message,
                                    "action": check.action}
                       for check in self.checks},
        }


def free_bytes(path: Path) -> int:
    """Free bytes on the filesystem of `path` for an unprivileged writer (tests replace this)."""
    return shutil.disk_usage(path).free


def format_bytes(size: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(size) < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TiB"


def check_database() -> CheckResult:
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:  # noqa: BLE001 - any driver error means "does not answer"
        return CheckResult("database", FAILED,
                           gettext("the default database does not answer: %(error)s")
                           % {"error": error},
                           gettext("check DATABASE_URL (`kolibri-like settings`) and that its "
                                   "server runs and its disk is not full"))
    vendor = connections["default"].vendor
    return CheckResult("database", OK, gettext("the default database (%(vendor)s) answers")
                       % {"vendor": vendor})


def check_channel_databases() -> CheckResult:
    folder = Path(settings.CONTENT_DATABASE_DIR)
    action = gettext("make sure %(folder)s exists and the server's user may read it; if "
                     "CONTENT_DIR is on a drive, mount it, then restart the server") % {
        "folder": folder}
    try:
        with os.scandir(folder) as entries:
            count = sum(1 for entry in entries if entry.name.endswith(".sqlite3"))
    except FileNotFoundError:
        return CheckResult("channel_databases", FAILED,
                           gettext("%(folder)s does not exist") % {"folder": folder}, action)
    except OSError as error:
        return CheckResult("channel_databases", FAILED,
                           gettext("%(folder)s cannot be read: %(error)s")
                           % {"folder": folder, "error": error}, action)
    return CheckResult("channel_databases", OK,
                       ngettext("%(folder)s holds %(count)s channel file",
                                "%(folder)s holds %(count)s channel files", count)
                       % {"folder": folder, "count": count})


def check_storage_space() -> CheckResult:
    folder = Path(settings.CONTENT_STORAGE_DIR)
    try:
        free = free_bytes(folder)
    except OSError as error:
        return CheckResult("storage_space", FAILED,
                           gettext("cannot measure free space in %(folder)s: %(error)s")
                           % {"folder": folder, "error": error},
                           gettext("make sure CONTENT_DIR exists and is mounted"))
    message = gettext("%(free)s free in %(folder)s") % {"free": format_bytes(free),
                                                       "folder": folder}
    action = gettext("free space: delete channels no longer used (`deletechannel`), then run "
                     "`gcstorage`; or move CONTENT_DIR to a bigger drive")
    if free < FREE_SPACE_MINIMUM_BYTES:
        return CheckResult("storage_space", FAILED,
                           gettext("%(message)s, below the minimum of %(minimum)s")
                           % {"message": message,
                              "minimum": format_bytes(FREE_SPACE_MINIMUM_BYTES)}, action)
    if free < FREE_SPACE_WARNING_BYTES:
        return CheckResult("storage_space", WARNING,
                           gettext("%(message)s, below %(warning)s")
                           % {"message": message,
                              "warning": format_bytes(FREE_SPACE_WARNING_BYTES)}, action)
    return CheckResult("storage_space", OK, message)


def check_task_queue() -> CheckResult:
    from huey.contrib.djhuey import HUEY

    try:
        pending = HUEY.pending_count()
    except Exception as error:  # noqa: BLE001 - SQLite or Redis errors alike
        where = (gettext("REDIS_URL and that Redis runs") if settings.HUEY.get("url")
                 else gettext("the queue file %(file)s")
                 % {"file": settings.HUEY.get("filename", "")})
        return CheckResult("task_queue", FAILED,
                           gettext("the task queue does not answer: %(error)s") % {"error": error},
                           gettext("check %(where)s; see the server log") % {"where": where})
    return CheckResult("task_queue", OK,
                       ngettext("the task queue answers (%(count)s task waiting)",
                                "the task queue answers (%(count)s tasks waiting)", pending)
                       % {"count": pending})


def check_task_consumer(now: float | None = None) -> CheckResult:
    from jobs.models import Job
    from operations.heartbeat import last_consumer_heartbeat

    now = time.time() if now is None else now
    action = gettext("start the server with its consumer (`kolibri-like start` without "
                     "--no-consumer) or run `kolibri-like run_huey` where tasks should run; see "
                     "%(log)s") % {"log": Path(settings.LOG_DIR) / "consumer.log"}
    try:
        beat = last_consumer_heartbeat()
    except Exception as error:  # noqa: BLE001 - the queue check reports the cause
        return CheckResult("task_consumer", FAILED,
                           gettext("cannot read the heartbeat: %(error)s") % {"error": error},
                           action)
    if beat is not None and beat.age_seconds(now) < HEARTBEAT_MAX_AGE_SECONDS:
        return CheckResult("task_consumer", OK,
                           gettext("the consumer on %(host)s (pid %(pid)s) reported %(age)s s ago")
                           % {"host": beat.host, "pid": beat.pid,
                              "age": f"{max(0, beat.age_seconds(now)):.0f}"})
    # Every worker may be busy with a long job; a job's own heartbeat then proves a live worker.
    recent = timezone.now() - timedelta(seconds=HEARTBEAT_MAX_AGE_SECONDS)
    busy = Job.objects.filter(state=Job.State.RUNNING, heartbeat_at__gte=recent).count()
    if busy:
        return CheckResult("task_consumer", OK,
                           ngettext("the consumer is busy with %(count)s running task that "
                                    "reports progress",
                                    "the consumer is busy with %(count)s running tasks that "
                                    "report progress", busy) % {"count": busy})
    if beat is None:
        return CheckResult("task_consumer", FAILED,
                           gettext("no task consumer has ever reported"), action)
    minutes = beat.age_seconds(now) / 60
    return CheckResult("task_consumer", FAILED,
                       gettext("no task consumer has reported for %(minutes)s minute(s) "
                               "(last: %(host)s, pid %(pid)s)")
                       % {"minutes": f"{minutes:.0f}", "host": beat.host, "pid": beat.pid},
                       action)


def check_ffmpeg() -> CheckResult:
    from media.ffmpeg import FFmpegNotFoundError, ffmpeg_binary

    try:
        binary = ffmpeg_binary()
    except FFmpegNotFoundError as error:
        return CheckResult("ffmpeg", FAILED, str(error),
                           gettext("install ffmpeg (`apt install ffmpeg`) or set FFMPEG_BINARY"))
    return CheckResult("ffmpeg", OK, gettext("ffmpeg found: %(binary)s") % {"binary": binary})


CHECKS: tuple[Callable[[], CheckResult], ...] = (
    check_database, check_channel_databases, check_storage_space, check_task_queue,
    check_task_consumer, check_ffmpeg)


def run_health_checks() -> HealthReport:
    """Run every check; one that raises unexpectedly fails by itself, never the others."""
    results = []
    for check in CHECKS:
        name = check.__name__.removeprefix("check_")
        try:
            results.append(check())
        except Exception as error:  # noqa: BLE001 - a broken check must not hide the rest
            results.append(CheckResult(name, FAILED,
                                       gettext("the check itself failed: %(error)s")
                                       % {"error": error}, gettext("see the server log")))
    return HealthReport(results)


def format_report(report: HealthReport) -> list[str]:
    """Lines for a terminal: one per check, plus what to do under each that is not ok."""
    lines = []
    for check in report.checks:
        lines.append(f"{check.status.upper():8} {check.name}: {check.message}")
        if check.action and check.status != OK:
            lines.append(f"         what to do: {check.action}")
    lines.append("healthy" if report.healthy else
                 f"UNHEALTHY: {', '.join(report.failed_names)} failed")
    return lines
