"""Start-up recovery (`manage.py recover`, which `kolibri-like start` runs before serving):
put right what a SIGKILL or a power cut left half-done. Idempotent; meant to run while nothing
else does, and safe if something does: each channel is repaired under its lock (a busy channel
is skipped), and temp leftovers go only when untouched for an hour.

1. Registry rows stuck "being installed" (a new channel whose install stopped): a served file
   that passes the checks is adopted; else the newest kept version that passes them is made
   current; versions whose file never arrived are forgotten, and a channel with nothing left
   is forgotten too.
2. Served file against registry: what readers see is the truth. A served file holding another
   version than the registry says (killed between the rename and the registry update) updates
   the registry; a missing served file is restored from the kept copy of the current version;
   a missing kept copy of the current version is restored from the served file.
3. Kept versions whose file is gone are forgotten (a revert to them is impossible), but only
   while the channel's served file is there, so an unmounted content drive forgets nothing.
   Version files with no version row (an install stopped between placing the file and
   registering it) are removed, so that running the install again completes it.
   An install killed after registering its version but before making it current (its intent
   marker is still in `versions/<channel_id>/`) is finished: that version becomes current.
4. Leftovers older than an hour: `.swap-*`, `*.part`, `*.partial` in the databases folders and
   `put-*.part` in the temp area. (`purgetemp` removes the rest of the temp area after a day.)
5. Jobs whose worker died: the reaper retries or fails them.
6. Content imports left "running" by a process that is gone: marked interrupted (a re-run of
   the same `importcontent` resumes them).

    report = recover()
    for line in report.repairs: print(line)
"""

from __future__ import annotations

import itertools
import logging
import sqlite3
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from channels.checks import ChannelDatabaseInfo, check_channel_database, read_channel_metadata
from channels.errors import ChannelBusyError, InvalidChannelDatabaseError
from channels.invariants import BEING_INSTALLED, orphan_version_files
from channels.locks import channel_lock
from channels.models import Channel, ChannelVersion, ContentImport
from channels.selectors import forget_channel_state
from channels.services import register_channel
from channels.transfer.locking import is_import_running
from content.search.index import search_index_path
from channels.versions import (
    install_intents,
    VersionFileReadError,
    link_or_copy,
    make_version_current,
    record_found_version,
    version_database_path,
)
from jobs.services import reap_stale_jobs
from routers.registry import channel_database_path
from storage.files import fsync_directory
from storage.temp import database_leftovers, newest_stamp

logger = logging.getLogger(__name__)
LEFTOVER_MAX_AGE_SECONDS = 60 * 60
# What a damaged file or folder raises during one channel's repair: reported, and the next
# channel is repaired anyway (one bad channel must never keep the server from starting).
REPAIR_ERRORS = (InvalidChannelDatabaseError, VersionFileReadError, OSError, sqlite3.Error)
MAX_TEMP_ENTRIES = 100_000
MAX_IMPORT_ROWS = 1000
INTERRUPTED_PROBLEM = ("stopped without finishing (the process was killed or the server lost "
                       "power); run the same `importcontent` again to resume")


@dataclass
class RecoveryReport:
    repairs: list[str] = field(default_factory=list)
    # Found but not repaired here (busy, or needs an admin): `checkinvariants` says how.
    left: list[str] = field(default_factory=list)


def recover(*, now: float | None = None) -> RecoveryReport:
    """Run every step (module doc). `now` (a timestamp) only judges the age of leftovers."""
    report = RecoveryReport()
    _finish_installs(report)
    _align_registry(report)
    _forget_lost_versions(report)
    _remove_orphan_versions(report)
    _finish_cut_switches(report)
    _remove_leftovers(report, time.time() if now is None else now)
    _reap_jobs(report)
    _interrupt_dead_imports(report)
    return report


@contextmanager
def _held(channel_id: str, report: RecoveryReport) -> Iterator[bool]:
    """The channel's lock if free (True), else a note in the report (False). A damaged file met
    while repairing the channel is reported, not raised."""
    with ExitStack() as stack:
        try:
            stack.enter_context(channel_lock(channel_id))
        except ChannelBusyError:
            report.left.append(f"channel {channel_id}: another operation holds it; not checked")
            yield False
            return
        try:
            yield True
        except REPAIR_ERRORS as error:
            logger.warning("recovery of channel %s stopped: %s", channel_id, error)
            report.left.append(f"channel {channel_id}: not repaired ({error}); see "
                               "`checkinvariants`")


def _checked(path: Path, channel_id: str) -> ChannelDatabaseInfo | None:
    if not path.is_file():
        return None
    try:
        return check_channel_database(path, expected_channel_id=channel_id)
    except InvalidChannelDatabaseError:
        return None


def _adopt_served_file(channel_id: str, info: ChannelDatabaseInfo) -> None:
    """Make the registry say what the served file holds, and keep that version's file."""
    served = channel_database_path(channel_id)
    row = ChannelVersion.objects.filter(channel_id=channel_id, number=info.version).first()
    if row is None:
        row = record_found_version(channel_id, info)
    elif not version_database_path(channel_id, info.version).is_file():
        link_or_copy(served, version_database_path(channel_id, info.version))
    register_channel(info, served, version_label=row.version_label if row else None)


def _finish_installs(report: RecoveryReport) -> None:
    stuck = list(Channel.objects.filter(state=Channel.State.REJECTED, problem=BEING_INSTALLED)
                 .values_list("id", flat=True))
    for channel_id in stuck:
        with _held(channel_id, report) as held:
            if held:
                _finish_install(channel_id, report)


def _finish_install(channel_id: str, report: RecoveryReport) -> None:
    versions = list(ChannelVersion.objects.filter(channel_id=channel_id).order_by("-number"))
    kept = [row for row in versions if version_database_path(channel_id, row.number).is_file()]
    lost = [row.number for row in versions if row not in kept]
    if lost:
        ChannelVersion.objects.filter(channel_id=channel_id, number__in=lost).delete()
        report.repairs.append(f"channel {channel_id}: forgot half-made version(s) "
                              f"{', '.join(map(str, lost))} (their file never arrived)")
    info = _checked(channel_database_path(channel_id), channel_id)
    if info is not None:
        _adopt_served_file(channel_id, info)
        report.repairs.append(f"channel {channel_id}: install finished, serving version "
                              f"{info.version} (the served file was already in place)")
        return
    intact = next((row for row in kept
                   if _checked(version_database_path(channel_id, row.number), channel_id)), None)
    if intact is not None:
        make_version_current(channel_id, intact)
        report.repairs.append(f"channel {channel_id}: install finished, version "
                              f"{intact.number} made current")
    elif kept:
        report.left.append(f"channel {channel_id}: stuck being installed, and no kept version "
                           "passes the checks; delete it (`deletechannel`) and import it again")
    else:
        Channel.objects.filter(id=channel_id).delete()
        forget_channel_state(channel_id)
        report.repairs.append(f"channel {channel_id}: forgot the half-installed channel "
                              "(no version file arrived); import or publish it again")


def _align_registry(report: RecoveryReport) -> None:
    servable = list(Channel.objects.servable().values_list("id", "version"))
    for channel_id, version in servable:
        # Looked at without the lock first: taking every channel's lock would make a publish
        # started meanwhile fail as busy. Under the lock, _align_channel looks again.
        if _is_aligned(channel_id, version):
            continue
        with _held(channel_id, report) as held:
            if held:
                _align_channel(channel_id, report)


def _is_aligned(channel_id: str, version: int) -> bool:
    served = channel_database_path(channel_id)
    if not served.is_file() or not version_database_path(channel_id, version).is_file():
        return False
    if not ChannelVersion.objects.filter(channel_id=channel_id, number=version).exists():
        return False
    try:
        return read_channel_metadata(served, channel_id).version == version
    except InvalidChannelDatabaseError:
        return False


def _align_channel(channel_id: str, report: RecoveryReport) -> None:
    channel = Channel.objects.get(id=channel_id)
    served = channel_database_path(channel_id)
    kept_path = version_database_path(channel_id, channel.version)
    row = ChannelVersion.objects.filter(channel_id=channel_id, number=channel.version).first()
    if not served.is_file():
        if row is not None and _checked(kept_path, channel_id) is not None:
            make_version_current(channel_id, row)
            report.repairs.append(f"channel {channel_id}: served file was missing; restored "
                                  f"version {row.number} from its kept copy")
        else:
            report.left.append(f"channel {channel_id}: served file and its kept copy are "
                               "missing; import the channel again")
        return
    try:
        served_version = read_channel_metadata(served, channel_id).version
    except InvalidChannelDatabaseError as error:
        report.left.append(f"channel {channel_id}: served file unreadable ({error.reason}); "
                           "see `checkinvariants`")
        return
    if served_version != channel.version:
        info = _checked(served, channel_id)
        if info is None:
            report.left.append(f"channel {channel_id}: served file fails its checks; see "
                               "`checkinvariants`")
            return
        _adopt_served_file(channel_id, info)
        report.repairs.append(f"channel {channel_id}: registry said version {channel.version}, "
                              f"the served file holds {info.version}; registry updated")
    elif row is None or not kept_path.is_file():
        info = read_channel_metadata(served, channel_id)
        _adopt_served_file(channel_id, info)
        report.repairs.append(f"channel {channel_id}: kept copy of current version "
                              f"{channel.version} restored from the served file")


def _forget_lost_versions(report: RecoveryReport) -> None:
    current = dict(Channel.objects.values_list("id", "version"))
    rows = ChannelVersion.objects.order_by("channel_id", "number").values_list(
        "pk", "channel_id", "number")
    lost = [(pk, channel_id, number) for pk, channel_id, number in rows
            if not version_database_path(channel_id, number).is_file()]
    for pk, channel_id, number in lost:
        if current.get(channel_id) == number:
            continue  # the current version: restored from the served file in step 2, if any
        if not channel_database_path(channel_id).is_file():
            report.left.append(f"channel {channel_id}: version {number} has no file, nor the "
                               "channel a served file; nothing forgotten (drive unmounted?)")
            continue
        with _held(channel_id, report) as held:
            if held and not version_database_path(channel_id, number).is_file():
                ChannelVersion.objects.filter(pk=pk).delete()
                search_index_path(channel_id, number).unlink(missing_ok=True)
                report.repairs.append(f"channel {channel_id}: forgot version {number} (its "
                                      "file is gone; it can no longer be reverted to)")


def _finish_cut_switches(report: RecoveryReport) -> None:
    """Installs killed after registering their version but before making it current (their
    intent marker is still there, channels.versions.install_channel_version): made current now,
    as the install meant to. A marker whose switch did happen, or whose version never got
    registered (its file was removed above), is just removed."""
    for channel_id, number, marker in install_intents():
        with _held(channel_id, report) as held:
            if not held:
                continue
            version = ChannelVersion.objects.filter(channel_id=channel_id, number=number).first()
            current = Channel.objects.filter(id=channel_id).values_list(
                "version", flat=True).first()
            if version is not None and current is not None and current != number \
                    and version_database_path(channel_id, number).is_file():
                make_version_current(channel_id, version)
                report.repairs.append(
                    f"channel {channel_id}: version {number} was installed, but the process "
                    "stopped before it became current; it is current now")
            marker.unlink(missing_ok=True)


def _remove_orphan_versions(report: RecoveryReport) -> None:
    """Version files an install placed but never registered (after step 2 has adopted the
    served file's version, so the file readers see is never among them)."""
    for channel_id, number, path in orphan_version_files():
        with _held(channel_id, report) as held:
            if not held or ChannelVersion.objects.filter(channel_id=channel_id,
                                                         number=number).exists():
                continue
            path.unlink(missing_ok=True)
            fsync_directory(path.parent)
            if not Channel.objects.filter(id=channel_id).exists():
                _remove_empty_folder(path.parent)
            report.repairs.append(f"channel {channel_id}: removed version file {path} (an "
                                  "install stopped before registering it)")


def _remove_empty_folder(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass  # not empty: something else is kept there


def _remove_leftovers(report: RecoveryReport, now: float) -> None:
    cutoff = now - LEFTOVER_MAX_AGE_SECONDS
    candidates: list[Path] = []
    databases_dir = Path(settings.CONTENT_DATABASE_DIR)
    if databases_dir.is_dir():
        candidates.extend(database_leftovers(databases_dir))
    temp_dir = Path(settings.CONTENT_TEMP_DIR)
    if temp_dir.is_dir():
        candidates.extend(path for path in itertools.islice(temp_dir.glob("put-*.part"),
                                                            MAX_TEMP_ENTRIES)
                          if path.is_file() and not path.is_symlink())
    for path in sorted(candidates):
        try:
            if newest_stamp(path)[0] >= cutoff:
                continue
            path.unlink()
        except FileNotFoundError:
            continue
        except OSError as error:
            report.left.append(f"could not remove leftover {path}: {error}")
            continue
        report.repairs.append(f"removed leftover {path}")


def _reap_jobs(report: RecoveryReport) -> None:
    reaped = reap_stale_jobs()
    for job_id in reaped.requeued:
        report.repairs.append(f"task {job_id}: its worker died; queued again")
    for job_id in reaped.failed:
        report.repairs.append(f"task {job_id}: its worker died too often; marked failed")
    for job_id in reaped.cancelled:
        report.repairs.append(f"task {job_id}: its worker died after a cancel; cancelled")


def _interrupt_dead_imports(report: RecoveryReport) -> None:
    rows = ContentImport.objects.filter(state=ContentImport.State.RUNNING).values_list(
        "pk", "channel_id")[:MAX_IMPORT_ROWS]
    for import_id, channel_id in rows:
        if is_import_running(channel_id):
            continue
        updated = ContentImport.objects.filter(
            pk=import_id, state=ContentImport.State.RUNNING).update(
                state=ContentImport.State.INTERRUPTED, problem=INTERRUPTED_PROBLEM,
                updated_at=timezone.now())
        if updated:
            report.repairs.append(f"import {import_id} of channel {channel_id}: its process "
                                  "is gone; marked interrupted (run it again to resume)")
