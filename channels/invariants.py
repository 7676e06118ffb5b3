"""Check the invariants a crash, a pulled drive or a hand-edited folder may break
(`manage.py checkinvariants`).

Each finding names what is wrong, where, and how to fix it; most say "`recover`", which repairs
what can be repaired without an admin's decision (channels.recovery). Read-mostly: the one write
is a reaper run first (jobs.services.reap_stale_jobs), so that a job is reported stuck only if
the reaper could not deal with it.

Checks, in order:
1. every servable channel's current file exists, passes `quick_check` (`integrity_check` with
   `full`) with `trusted_schema=OFF`, holds the channel id it is filed under, and its version
   number is the registry's; no registry row is stuck "being installed";
2. every kept version has its file under `databases/versions/<channel_id>/<n>.sqlite3`, and
   every such file has its version row (else an install stopped before registering it);
3. every stored file a kept version references and the file registry claims present exists with
   its registered size, and a sample (all with `full`) hashes to its name. A file with no
   registry row is "not imported" (a partial import), not a violation;
4. no entry of the temp area and no database leftover older than two days;
5. no content import marked running that no process works on;
6. no job running with a stale heartbeat after one reaper run;
7. the default database passes `quick_check` when it is SQLite.

    report = check_invariants(full=False)
    for violation in report.violations: print(violation.line)
"""

from __future__ import annotations

import itertools
import random
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import connections
from django.db.models import Q
from django.utils import timezone

from channels.checks import check_channel_database, read_channel_metadata
from channels.errors import ChannelBusyError, InvalidChannelDatabaseError
from channels.locks import channel_lock
from channels.models import Channel, ChannelVersion, ChannelVersionFile, ContentImport
from channels.transfer.locking import is_import_running
from channels.versions import BEING_INSTALLED, version_database_path
from jobs.conf import job_setting
from jobs.models import Job
from jobs.services import reap_stale_jobs
from routers.ids import is_valid_channel_id
from routers.registry import channel_database_path
from storage.gc import maintenance_lock
from storage.models import StoredFile
from storage.paths import storage_path
from storage.temp import database_leftovers, newest_stamp
from storage.verify import hash_file

# The problem text channels.versions gives a new channel's row until its first version is
# current (`_registry_row`); recovery looks for the same words.
DEFAULT_MD5_SAMPLE = 50
TEMP_MAX_AGE_SECONDS = 2 * 24 * 60 * 60
# Findings kept per check; beyond this they are counted, not listed (bounded output).
MAX_LISTED_PER_CHECK = 100
MAX_TEMP_ENTRIES = 100_000
MAX_VERSION_FILES = 100_000
QUERY_CHUNK = 900
LOCK_WAIT_SECONDS = 30.0


@dataclass(frozen=True)
class Violation:
    check: str
    what: str
    where: str
    fix: str

    @property
    def line(self) -> str:
        return f"{self.what}: {self.where} (fix: {self.fix})"

    def as_dict(self) -> dict[str, str]:
        return {"check": self.check, "what": self.what, "where": self.where, "fix": self.fix}


@dataclass
class InvariantReport:
    violations: list[Violation] = field(default_factory=list)
    # check -> violations found, listed or not.
    counts: dict[str, int] = field(default_factory=dict)
    # Channels another operation held while we looked: not judged this time.
    busy: list[str] = field(default_factory=list)
    md5_checked: int = 0

    @property
    def violation_count(self) -> int:
        return sum(self.counts.values())

    @property
    def ok(self) -> bool:
        return self.violation_count == 0

    def add(self, check: str, what: str, where: str, fix: str) -> None:
        self.counts[check] = self.counts.get(check, 0) + 1
        if self.counts[check] <= MAX_LISTED_PER_CHECK:
            self.violations.append(Violation(check, what, where, fix))

    def unlisted(self) -> dict[str, int]:
        return {check: count - MAX_LISTED_PER_CHECK for check, count in self.counts.items()
                if count > MAX_LISTED_PER_CHECK}

    def as_dict(self) -> dict[str, object]:
        return {"ok": self.ok, "violation_count": self.violation_count,
                "violations": [violation.as_dict() for violation in self.violations],
                "unlisted": self.unlisted(), "busy_channels": self.busy,
                "md5_checked": self.md5_checked}


def check_invariants(*, full: bool = False, md5_sample: int = DEFAULT_MD5_SAMPLE,
                     now: float | None = None) -> InvariantReport:
    """Run every check (module doc). `now` (a timestamp) only judges the age of temp files."""
    report = InvariantReport()
    _check_channels(report, full)
    _check_versions(report)
    _check_orphan_versions(report)
    _check_stored_files(report, full, md5_sample)
    _check_temp(report, time.time() if now is None else now)
    _check_imports(report)
    _check_jobs(report)
    _check_default_database(report)
    return report


def is_channel_busy(channel_id: str) -> bool:
    """Whether a publish, import, revert or delete holds the channel now (without waiting)."""
    try:
        with channel_lock(channel_id):
            return False
    except ChannelBusyError:
        return True


def _check_channels(report: InvariantReport, full: bool) -> None:
    for channel in Channel.objects.order_by("id").iterator(chunk_size=500):
        if channel.state == Channel.State.REJECTED and channel.problem == BEING_INSTALLED:
            if is_channel_busy(channel.id):
                report.busy.append(channel.id)
            else:
                report.add("installing", "registry row stuck \"being installed\"",
                           f"channel {channel.id}",
                           "`recover` makes its kept version current or forgets the "
                           "half-installed channel")
            continue
        if channel.state == Channel.State.AVAILABLE:
            _check_served_file(report, channel, full)


def _check_served_file(report: InvariantReport, channel: Channel, full: bool) -> None:
    path = channel_database_path(channel.id)
    if not path.is_file():
        report.add("channel-file", "current channel file missing", str(path),
                   f"`recover` restores version {channel.version} from its kept copy if there "
                   f"is one; else import the channel again")
        return
    try:
        info = check_channel_database(path, expected_channel_id=channel.id, full=full)
    except InvalidChannelDatabaseError as error:
        report.add("channel-file", f"current channel file fails its checks ({error.reason})",
                   str(path), f"`channelversions {channel.id}` then `revertchannel` to an "
                   f"intact version, or import the channel again")
        return
    if info.version == channel.version:
        return
    # A make-current in flight renames first and updates the registry second: look again
    # under the channel's lock before calling it a violation.
    if is_channel_busy(channel.id):
        report.busy.append(channel.id)
        return
    with channel_lock(channel.id):
        registered = Channel.objects.filter(id=channel.id).values_list(
            "version", flat=True).first()
        served_version = read_channel_metadata(path, channel.id).version
    if registered is not None and served_version != registered:
        report.add("channel-version",
                   f"served file holds version {served_version}, the registry says "
                   f"{registered}", str(path),
                   "`recover` updates the registry from the served file")


def _check_versions(report: InvariantReport) -> None:
    current = dict(Channel.objects.values_list("id", "version"))
    rows = ChannelVersion.objects.order_by("channel_id", "number").values_list(
        "channel_id", "number")
    for channel_id, number in rows.iterator(chunk_size=2000):
        path = version_database_path(channel_id, number)
        if path.is_file():
            continue
        if current.get(channel_id) == number:
            fix = "`recover` restores it from the served file"
        else:
            fix = ("`recover` forgets this version (it can no longer be reverted to), or put "
                   "the file back")
        report.add("version-file", f"kept version {number} of channel {channel_id} has no file",
                   str(path), fix)


def version_files_on_disk() -> list[tuple[str, int, Path]]:
    """(channel_id, number, path) of every `versions/<channel_id>/<n>.sqlite3` (bounded)."""
    root = Path(settings.CONTENT_DATABASE_DIR) / "versions"
    if not root.is_dir():
        return []
    found: list[tuple[str, int, Path]] = []
    folders = sorted(itertools.islice(root.iterdir(), MAX_VERSION_FILES))
    for folder in folders:
        if not is_valid_channel_id(folder.name) or not folder.is_dir() or folder.is_symlink():
            continue
        for path in sorted(itertools.islice(folder.glob("*.sqlite3"), MAX_VERSION_FILES)):
            number = path.name.removesuffix(".sqlite3")
            if number.isascii() and number.isdigit() and path.is_file():
                found.append((folder.name, int(number), path))
            if len(found) >= MAX_VERSION_FILES:
                return found
    return found


def orphan_version_files() -> list[tuple[str, int, Path]]:
    """Version files without a version row: an install stopped between placing the file and
    registering it (it holds the channel's lock throughout, so a busy channel's are not)."""
    rows = set(ChannelVersion.objects.values_list("channel_id", "number"))
    return [(channel_id, number, path) for channel_id, number, path in version_files_on_disk()
            if (channel_id, number) not in rows]


def _check_orphan_versions(report: InvariantReport) -> None:
    for channel_id, number, path in orphan_version_files():
        if is_channel_busy(channel_id):
            report.busy.append(channel_id)
            continue
        if ChannelVersion.objects.filter(channel_id=channel_id, number=number).exists():
            continue  # registered while we looked
        report.add("version-file", f"version file without a registry row (an install of "
                   f"version {number} of channel {channel_id} stopped before registering it)",
                   str(path), "`recover` removes it; run the install again")


def _check_stored_files(report: InvariantReport, full: bool, md5_sample: int) -> None:
    """Referenced files the registry claims present: there, with their size; a sample hashed.

    Holds the collector's lock so that a file it deletes (with its row) is not reported."""
    checksums = sorted(set(ChannelVersionFile.objects.values_list("checksum", flat=True)))
    present: list[tuple[str, Path]] = []
    with maintenance_lock(LOCK_WAIT_SECONDS):
        for start in range(0, len(checksums), QUERY_CHUNK):
            rows = StoredFile.objects.filter(
                checksum__in=checksums[start:start + QUERY_CHUNK]).values_list(
                    "checksum", "extension", "size")
            for checksum, extension, size in rows:
                path = storage_path(checksum, extension)
                if _check_stored_file(report, checksum, path, size):
                    present.append((checksum, path))
        chosen = present if full else random.sample(present, min(md5_sample, len(present)))
        for checksum, path in chosen:
            try:
                hashes = hash_file(path)
            except FileNotFoundError:
                continue  # reported above, or removed with its row meanwhile
            report.md5_checked += 1
            if hashes.md5 != checksum:
                report.add("stored-file", f"stored file's bytes have MD5 {hashes.md5} "
                           f"({_users_of(checksum)})", str(path),
                           "`verifystorage --repair` quarantines it, then import the "
                           "channel's content again")


def _check_stored_file(report: InvariantReport, checksum: str, path: Path, size: int) -> bool:
    try:
        actual = path.stat().st_size
    except FileNotFoundError:
        report.add("stored-file", f"file registry claims a file that is missing "
                   f"({_users_of(checksum)})", str(path),
                   "`verifystorage --repair` drops the row, then `importcontent` the channel "
                   "again")
        return False
    if actual != size:
        report.add("stored-file", f"stored file has {actual} bytes, the registry says {size} "
                   f"({_users_of(checksum)})", str(path),
                   "`verifystorage --repair` quarantines it, then import the channel's content "
                   "again")
        return False
    return True


def _users_of(checksum: str) -> str:
    rows = ChannelVersionFile.objects.filter(checksum=checksum).values_list(
        "version__channel_id", "version__number")[:3]
    return "used by " + ", ".join(f"channel {channel_id} v{number}"
                                  for channel_id, number in rows)


def _check_temp(report: InvariantReport, now: float) -> None:
    cutoff = now - TEMP_MAX_AGE_SECONDS
    entries: list[Path] = []
    temp_dir = Path(settings.CONTENT_TEMP_DIR)
    if temp_dir.is_dir():
        entries.extend(itertools.islice(temp_dir.iterdir(), MAX_TEMP_ENTRIES))
    databases_dir = Path(settings.CONTENT_DATABASE_DIR)
    if databases_dir.is_dir():
        entries.extend(database_leftovers(databases_dir))
    for path in sorted(entries):
        try:
            newest, _size = newest_stamp(path)
        except FileNotFoundError:
            continue  # its owner removed it while we looked
        if newest < cutoff:
            report.add("temp", "leftover temp file older than two days", str(path),
                       "`purgetemp` removes it")


def _check_imports(report: InvariantReport) -> None:
    rows = ContentImport.objects.filter(state=ContentImport.State.RUNNING).values_list(
        "pk", "channel_id")
    for import_id, channel_id in rows.iterator(chunk_size=500):
        if not is_import_running(channel_id):
            report.add("import", "content import marked running, but no process works on it",
                       f"import {import_id} of channel {channel_id}",
                       "`recover` marks it interrupted; run the same `importcontent` again to "
                       "resume")


def _check_jobs(report: InvariantReport) -> None:
    reap_stale_jobs()
    stale_before = timezone.now() - timedelta(seconds=float(job_setting("STALE_AFTER_SECONDS")))
    stale = Job.objects.filter(state=Job.State.RUNNING).filter(
        Q(heartbeat_at__lt=stale_before)
        | Q(heartbeat_at__isnull=True, started_at__lt=stale_before))
    for job_id, kind in stale.values_list("id", "kind").iterator(chunk_size=500):
        report.add("job", "job running with a stale heartbeat after a reaper run",
                   f"task {job_id} ({kind})",
                   "`recover` (or the consumer's reaper) runs again; cancel the task if it "
                   "stays")


def _check_default_database(report: InvariantReport) -> None:
    connection = connections["default"]
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA quick_check")
        rows = cursor.fetchall()
    if rows != [("ok",)]:
        first = "; ".join(str(row[0]) for row in rows[:3])
        report.add("default-database", f"default database fails quick_check ({first})",
                   str(connection.settings_dict["NAME"]),
                   "stop the server, restore the default database from a backup")
