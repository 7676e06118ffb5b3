"""`kolibri-like diagnostics`: one text file an admin can send to whoever helps them, and the
clock check the admin page shows.

The file holds: versions, a clock warning if any, the health checks, settings (secrets
redacted through the config's `secret` flags), disk space, channels, recent task failures, and
the last 200 lines of each log under `KOLIBRI_LIKE_HOME/logs`. The value of every secret setting
and of the secret key is also blanked out of the log lines copied in.

Why the clock: offline boxes often lose the date (no network time, a flat RTC battery).
Certificates print the date, and the file collector's grace period trusts file ages. The clock
is judged wrong when it is earlier than something we wrote with it: the newest channel version,
the newest applied migration, the newest task, or this installation's own files.

    warning = clock_warning()          # None, or a sentence for the admin page
    path = write_diagnostics(None)     # KOLIBRI_LIKE_HOME/diagnostics/diagnostics-<time>.txt
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import platform
import shutil
import sqlite3
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

from django.conf import settings
from django.db import connections
from django.utils import timezone
from django.utils.translation import gettext

from operations.health import format_bytes, format_report, run_health_checks

LOG_TAIL_LINES = 200
LOG_TAIL_BYTES = 512 * 1024
CLOCK_SLACK = dt.timedelta(minutes=10)
RECENT_FAILURES = 20


def current_time() -> dt.datetime:
    """Now, as the clock says (tests replace this to play a wrong clock)."""
    return timezone.now()


def _installed_at() -> tuple[str, dt.datetime]:
    import kolibri_like

    stamp = Path(kolibri_like.__file__).stat().st_mtime
    return (gettext("this installation's files"),
            dt.datetime.fromtimestamp(stamp, dt.timezone.utc))


def _newest_known_times() -> Iterator[tuple[str, dt.datetime | None]]:
    from channels.models import ChannelVersion
    from jobs.models import Job

    newest_version = ChannelVersion.objects.order_by("-created_at").first()
    if newest_version is not None:
        yield (gettext("channel %(channel_id)s version %(version)s")
               % {"channel_id": newest_version.channel_id, "version": newest_version.number},
               newest_version.created_at)
    yield gettext("the newest task"), Job.objects.order_by("-created_at").values_list(
        "created_at", flat=True).first()
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT MAX(applied) FROM django_migrations")
        applied = cursor.fetchone()[0]
    if isinstance(applied, str):  # SQLite hands back text
        applied = dt.datetime.fromisoformat(applied)
    if isinstance(applied, dt.datetime) and timezone.is_naive(applied):
        applied = applied.replace(tzinfo=dt.timezone.utc)
    yield gettext("the newest database migration"), applied
    yield _installed_at()


def clock_warning() -> str | None:
    """A sentence for the admin when the clock is earlier than what we know happened, else None."""
    now = current_time()
    try:
        known = [(what, when) for what, when in _newest_known_times() if when is not None]
    except Exception:  # noqa: BLE001 - a database problem is the health check's to report
        known = [_installed_at()]
    latest = max(known, key=lambda item: item[1], default=None)
    if latest is None or latest[1] <= now + CLOCK_SLACK:
        return None
    what, when = latest
    return gettext("The clock looks wrong: it says %(now)s UTC, but %(what)s is dated "
                   "%(when)s UTC. Certificates would carry a wrong date and old files could be "
                   "cleaned up at the wrong time. Set the date and time (for example "
                   "`sudo timedatectl set-time 'YYYY-MM-DD HH:MM'`), or connect the server to a "
                   "network with a time server once.") % {
        "now": f"{now:%Y-%m-%d %H:%M}", "what": what, "when": f"{when:%Y-%m-%d %H:%M}"}


def _secret_values() -> list[str]:
    from kolibri_like.config import SETTINGS

    secret_names = {spec.name for spec in SETTINGS if spec.secret}
    values = [str(settings.SECRET_KEY)]
    for name, value in settings.CONFIG.values.items():
        if name not in secret_names or not value:
            continue
        text = str(value)
        if "://" not in text:
            values.append(text)
            continue
        # A URL: only its password is secret (the path or host helps whoever reads the file).
        rest = text.split("://", 1)[1]
        credentials = rest.rsplit("@", 1)[0] if "@" in rest else ""
        if ":" in credentials:
            values.append(credentials.split(":", 1)[1])
    return sorted({value for value in values if len(value) >= 4}, key=len, reverse=True)


def redact_text(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, "***")
    return text


def tail_lines(path: Path, count: int = LOG_TAIL_LINES) -> list[str]:
    """The last `count` lines, reading only the file's end (a log may be large)."""
    with open(path, "rb") as handle:
        handle.seek(0, os.SEEK_END)
        size = handle.tell()
        handle.seek(max(0, size - LOG_TAIL_BYTES))
        data = handle.read()
    lines = data.decode("utf-8", errors="replace").splitlines()
    if size > LOG_TAIL_BYTES:
        lines = lines[1:]  # the first one is cut
    return lines[-count:]


def _section(title: str) -> str:
    return f"\n== {title} =="


def _versions() -> list[str]:
    import django

    from operations.backup import kolibri_like_version

    return [f"kolibri-like {kolibri_like_version()}", f"python {sys.version.split()[0]}",
            f"django {django.get_version()}", f"sqlite {sqlite3.sqlite_version}",
            f"platform {platform.platform()}",
            f"default database {settings.DATABASES['default']['ENGINE']}"]


def _disk_space() -> list[str]:
    lines = []
    for label, folder in (("KOLIBRI_LIKE_HOME", settings.HOME),
                          ("CONTENT_DIR", settings.CONTENT_DIR),
                          ("storage", settings.CONTENT_STORAGE_DIR)):
        try:
            usage = shutil.disk_usage(folder)
        except OSError as error:
            lines.append(f"{label} {folder}: cannot measure ({error})")
            continue
        lines.append(f"{label} {folder}: {format_bytes(usage.free)} free of "
                     f"{format_bytes(usage.total)}")
    return lines


def _channels() -> list[str]:
    from channels.models import Channel

    lines = []
    for channel in Channel.objects.prefetch_related("versions").order_by("name", "id"):
        sources = ", ".join(f"v{version.number} {version.source}"
                            for version in channel.versions.all())
        lines.append(f"{channel.id}  {channel.name}  version {channel.version}  {channel.state}"
                     f"  {channel.node_count} nodes  {format_bytes(channel.total_size)}"
                     f"  [{sources}]" + (f"  problem: {channel.problem}" if channel.problem
                                         else ""))
    return lines or ["(none)"]


def _task_failures() -> list[str]:
    from jobs.models import Job

    failed = Job.objects.filter(state=Job.State.FAILED).order_by("-created_at")[:RECENT_FAILURES]
    return [f"{job.created_at:%Y-%m-%d %H:%M} {job.kind} {job.id}"
            f"{' channel ' + job.channel_id if job.channel_id else ''}: {job.error}"
            for job in failed] or ["(none)"]


def _guarded(produce: Callable[[], list[str]]) -> list[str]:
    """One section's lines; a section that fails says why instead of losing the whole file."""
    try:
        return produce()
    except Exception as error:  # noqa: BLE001 - the file is for finding out what is wrong
        return [f"(could not be read: {error.__class__.__name__}: {error})"]


def build_diagnostics() -> str:
    secrets = _secret_values()
    parts = [f"kolibri-like diagnostics, written {current_time():%Y-%m-%d %H:%M:%S} UTC "
             f"on {settings.SERVER_NAME}\n"]
    parts += [_section("Versions"), "\n".join(_versions())]
    warning = _guarded(lambda: [clock_warning() or "the clock looks right"])
    parts += [_section("Clock"), "\n".join(warning)]
    parts += [_section("Health"), "\n".join(_guarded(lambda: format_report(run_health_checks())))]
    settings_lines = [f"{name} = {value}    ({source})"
                      for name, value, source in settings.CONFIG.display_items()]
    parts += [_section("Settings (secrets redacted)"), "\n".join(settings_lines)]
    parts += [_section("Disk space"), "\n".join(_disk_space())]
    parts += [_section("Channels"), "\n".join(_guarded(_channels))]
    parts += [_section(f"Recent task failures (last {RECENT_FAILURES})"),
              "\n".join(_guarded(_task_failures))]
    log_dir = Path(settings.LOG_DIR)
    for log in sorted(log_dir.glob("*.log")) if log_dir.is_dir() else []:
        parts += [_section(f"Log {log} (last {LOG_TAIL_LINES} lines)"),
                  "\n".join(_guarded(functools.partial(tail_lines, log)))]
    return redact_text("\n".join(parts) + "\n", secrets)


def default_diagnostics_path() -> Path:
    stamp = current_time().strftime("%Y%m%dT%H%M%SZ")
    return Path(settings.HOME) / "diagnostics" / f"diagnostics-{stamp}.txt"


def write_diagnostics(target: Path | None) -> Path:
    """Write the file (mode 0600: it names paths and users) through a temp name; return it."""
    target = Path(target) if target is not None else default_diagnostics_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    text = build_diagnostics()
    partial = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.partial")
    try:
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target
