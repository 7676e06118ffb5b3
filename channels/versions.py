"""Channel versions: install a checked database file as a new immutable version, make a version
current (publish, import, revert), delete a channel.

Layout (DESIGN.md, INTERFACE.md "version"):

    CONTENT_DIR/databases/<channel_id>.sqlite3                      the current version (served)
    CONTENT_DIR/databases/versions/<channel_id>/<number>.sqlite3    every version, immutable

Making a version current never copies rows and never writes into a served file:

1. Hard-link the version file to a temporary name beside the served file (a copy, synced, where
   the filesystem has no hard links).
2. Close this process's connections to the channel (other threads follow on their next request).
3. Rename the temporary name over the served file and sync the folder: readers in flight finish
   on the file they opened; the next request opens the new one (routers.registry checks inode).
4. Update the registry row to the version's numbers.

    result = install_channel_version(built_file, channel_id, source="published", created_by=user)
    revert_channel(channel_id, 2)
"""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connections, transaction

from channels.checks import (
    ChannelDatabaseInfo,
    check_channel_database,
    open_untrusted,
    read_channel_metadata,
)
from channels.errors import ChannelNotFoundError, VersionExistsError, VersionNotFoundError
from channels.locks import channel_lock
from channels.models import Channel, ChannelVersion, ChannelVersionFile
from channels.selectors import forget_channel_state
from content.search.index import index_channel_version, remove_search_indexes
from routers.ids import is_valid_channel_id
from routers.registry import channel_database_path, release_channel_connections
from storage.files import fsync_directory
from kolibri_like.crashpoints import crash_point

logger = logging.getLogger(__name__)
FILE_ROW_BATCH = 5000
# The problem text of a registry row created for a new channel before its file is in place;
# `recover` finishes or removes rows left with it.
BEING_INSTALLED = "being installed"


@dataclass(frozen=True)
class InstallResult:
    channel: Channel
    version: ChannelVersion


def versions_dir(channel_id: str) -> Path:
    if not is_valid_channel_id(channel_id):
        raise ValueError(f"not a channel id: {channel_id!r}")
    return Path(settings.CONTENT_DATABASE_DIR) / "versions" / channel_id


def version_database_path(channel_id: str, number: int) -> Path:
    return versions_dir(channel_id) / f"{int(number)}.sqlite3"


INTENT_PREFIX = ".installing-"


def install_intent_path(channel_id: str, number: int) -> Path:
    """The marker of an install that is to make `number` current (see install_channel_version)."""
    return versions_dir(channel_id) / f"{INTENT_PREFIX}{number}"


def install_intents() -> list[tuple[str, int, Path]]:
    """(channel_id, number, marker) of every install a crash cut off before its switch."""
    root = Path(settings.CONTENT_DATABASE_DIR) / "versions"
    found: list[tuple[str, int, Path]] = []
    if not root.is_dir():
        return found
    for marker in sorted(root.glob(f"*/{INTENT_PREFIX}*"))[:10_000]:
        number = marker.name.removeprefix(INTENT_PREFIX)
        if is_valid_channel_id(marker.parent.name) and number.isascii() and number.isdigit():
            found.append((marker.parent.name, int(number), marker))
    return found


def _write_intent(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as handle:
        os.fsync(handle.fileno())
    fsync_directory(path.parent)


def next_version_number(channel_id: str) -> int:
    """The number a publish here makes: one more than any version this server has had."""
    numbers = list(ChannelVersion.objects.filter(channel_id=channel_id)
                   .values_list("number", flat=True))
    current = Channel.objects.filter(id=channel_id).values_list("version", flat=True).first()
    return max([0, *numbers, *([current] if current else [])]) + 1


def install_channel_version(source: Path, channel_id: str, *, source_label: str,
                            created_by: Any = None, owner: Any = None, version_label: str = "",
                            move: bool = True, make_current: bool = True,
                            checked: ChannelDatabaseInfo | None = None) -> InstallResult:
    """Keep `source` as a new version of `channel_id` and, by default, make it current.

    `source` is checked first (it may come from a drive or a peer), unless the caller passes
    `checked`, what its own check of this same file in the temp area found (the integrity
    check reads the whole file: half a second for a 50,000-node channel). With `move`, it must
    be on the same filesystem as CONTENT_DIR (the temp area is) and is renamed into place;
    otherwise it is copied. A version number this server already has raises VersionExistsError.
    """
    with channel_lock(channel_id):
        info = checked if checked is not None and checked.channel_id == channel_id else \
            check_channel_database(source, expected_channel_id=channel_id)
        if ChannelVersion.objects.filter(channel_id=channel_id, number=info.version).exists():
            raise VersionExistsError(channel_id, info.version)
        target = version_database_path(channel_id, info.version)
        # Written before anything else, removed once the version serves (or the install
        # failed): a process killed in between leaves it, and `recover` then finishes the
        # switch. Without it, a registered version that never became current looks exactly
        # like one an admin reverted away from.
        intent = install_intent_path(channel_id, info.version) if make_current else None
        if intent is not None:
            _write_intent(intent)
        try:
            _place_file(source, target, move=move)
            crash_point("version.placed")
            try:
                files = read_version_files(target)
                with transaction.atomic():
                    channel = _registry_row(info, owner)
                    version = ChannelVersion.objects.create(
                        channel=channel, number=info.version, source=source_label[:500],
                        created_by=created_by, version_label=version_label, name=info.name,
                        node_count=info.node_count, file_count=len(files),
                        total_size=info.total_size, database_size=target.stat().st_size)
                    _insert_version_files(version.pk, files)
            except BaseException:
                target.unlink(missing_ok=True)
                raise
            crash_point("version.before_switch")
            if make_current or channel.state != Channel.State.AVAILABLE or channel.version == 0:
                channel = make_version_current(channel_id, version)
        finally:
            if intent is not None:
                intent.unlink(missing_ok=True)
    return InstallResult(channel, version)



def revert_channel(channel_id: str, number: int) -> Channel:
    """Make an older (or newer) kept version current again; the number is not changed."""
    if not is_valid_channel_id(channel_id):
        raise ChannelNotFoundError(channel_id)
    with channel_lock(channel_id):
        if not Channel.objects.filter(id=channel_id).exists():
            raise ChannelNotFoundError(channel_id)
        version = ChannelVersion.objects.filter(channel_id=channel_id, number=number).first()
        if version is None or not version_database_path(channel_id, number).is_file():
            raise VersionNotFoundError(channel_id, number)
        return make_version_current(channel_id, version)


def delete_channel(channel_id: str) -> None:
    """Remove the channel, its versions and its registry rows. Its stored files are left for the
    garbage collector, which deletes them only when nothing else references them."""
    if not is_valid_channel_id(channel_id):
        raise ChannelNotFoundError(channel_id)
    with channel_lock(channel_id):
        channel = Channel.objects.filter(id=channel_id).first()
        if channel is None:
            raise ChannelNotFoundError(channel_id)
        release_channel_connections(channel_id)
        channel.delete()
        forget_channel_state(channel_id)
        served = channel_database_path(channel_id)
        served.unlink(missing_ok=True)
        fsync_directory(served.parent)
        shutil.rmtree(versions_dir(channel_id), ignore_errors=True)
        remove_search_indexes(channel_id)


def record_found_version(channel_id: str, info: ChannelDatabaseInfo) -> ChannelVersion | None:
    """A served file that arrived without us (dropped into databases/): keep it as a version too,
    so that a later revert can come back to it. Returns None if that number is already kept."""
    if ChannelVersion.objects.filter(channel_id=channel_id, number=info.version).exists():
        return None
    served = channel_database_path(channel_id)
    target = version_database_path(channel_id, info.version)
    link_or_copy(served, target)
    files = read_version_files(target)
    with transaction.atomic():
        version = ChannelVersion.objects.create(
            channel_id=channel_id, number=info.version, source="found in the databases folder",
            name=info.name, node_count=info.node_count, file_count=len(files),
            total_size=info.total_size, database_size=target.stat().st_size)
        _insert_version_files(version.pk, files)
    return version


def read_version_files(path: Path) -> list[tuple[str, str, int | None, str]]:
    """(checksum, extension, size, human-readable name) of every file a version uses.

    The name is the title of the first node that uses the file, plus its extension: one name
    per hash, as the seed asks, for people who look at storage listings.
    """
    connection = open_untrusted(path)
    try:
        rows = connection.execute(
            # A correlated subquery, not a join and GROUP BY: no temp b-tree for the grouping.
            "SELECT l.id, l.extension, l.file_size, "
            "COALESCE((SELECT MIN(COALESCE(n.title, '')) FROM content_file AS f "
            " JOIN content_contentnode AS n ON n.id = f.contentnode_id "
            " WHERE f.local_file_id = l.id), '') "
            "FROM content_localfile AS l").fetchall()
    except sqlite3.DatabaseError as error:
        raise VersionFileReadError(path, error) from None
    finally:
        connection.close()
    files = []
    for checksum, extension, size, title in rows:
        title = " ".join(str(title).split())[:250] or str(checksum)
        files.append((str(checksum), str(extension or ""), size, f"{title}.{extension}"))
    return files


class VersionFileReadError(Exception):
    exit_code = 4

    def __init__(self, path: Path, error: Exception) -> None:
        super().__init__(f"cannot read the file list of {path}: {error}")


def _registry_row(info: ChannelDatabaseInfo, owner: Any) -> Channel:
    channel, created = Channel.objects.get_or_create(
        id=info.channel_id,
        defaults={"name": info.name, "description": info.description, "root_id": info.root_id,
                  "state": Channel.State.REJECTED, "problem": BEING_INSTALLED, "owner": owner})
    if owner is not None and channel.owner_id is None:
        channel.owner = owner
        channel.save(update_fields=["owner"])
    return channel


def _insert_version_files(version_id: int, files: list[tuple[str, str, int | None, str]]) -> None:
    """Plain `executemany` of tuples: `bulk_create` of 50,000 model instances took most of a
    large import's time (benchmarks/RESULTS.md, scenario 1) and its memory."""
    default = connections["default"]
    table = default.ops.quote_name(ChannelVersionFile._meta.db_table)
    statement = (f"INSERT INTO {table} (version_id, checksum, extension, size, name) "
                 "VALUES (%s, %s, %s, %s, %s)")
    with default.cursor() as cursor:
        for start in range(0, len(files), FILE_ROW_BATCH):
            cursor.executemany(statement, [
                (version_id, checksum, extension, size, name)
                for checksum, extension, size, name in files[start:start + FILE_ROW_BATCH]])


def make_version_current(channel_id: str, version: ChannelVersion) -> Channel:
    source = version_database_path(channel_id, version.number)
    served = channel_database_path(channel_id)
    swap = served.with_name(f".swap-{channel_id}-{uuid.uuid4().hex[:8]}.sqlite3")
    try:
        try:
            os.link(source, swap)
        except OSError:
            _copy_synced(source, swap)
        crash_point("switch.before_rename")
        release_channel_connections(channel_id)
        os.replace(swap, served)
    finally:
        swap.unlink(missing_ok=True)
    fsync_directory(served.parent)
    crash_point("switch.after_rename")
    # Before the registry names this version, so searches find its index in place.
    index_channel_version(channel_id, version.number, source)
    stat = served.stat()
    info = read_channel_metadata(served, channel_id)
    with transaction.atomic():
        channel = Channel.objects.get(id=channel_id)
        channel.name, channel.description = info.name, info.description
        channel.version, channel.version_label = version.number, version.version_label
        channel.root_id, channel.node_count = info.root_id, info.node_count
        channel.total_size, channel.thumbnail = info.total_size, info.thumbnail
        channel.state, channel.problem = Channel.State.AVAILABLE, ""
        channel.file_size, channel.file_mtime_ns = stat.st_size, stat.st_mtime_ns
        channel.save()
    forget_channel_state(channel_id)
    return channel


def _place_file(source: Path, target: Path, *, move: bool) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.partial")
    try:
        if move:
            with open(source, "rb+") as handle:
                os.fsync(handle.fileno())
            os.replace(source, partial)
        else:
            _copy_synced(source, partial)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    fsync_directory(target.parent)


def link_or_copy(source: Path, target: Path) -> None:
    """Give `target` the bytes of `source`: a hard link where the filesystem allows, else a
    synced copy. Always through a new temporary name and a rename: `target` may already be a
    link to a served file, which must never be opened for writing."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists() and os.path.samefile(source, target):
        return
    temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.partial")
    try:
        try:
            os.link(source, temporary)
        except OSError:
            _copy_synced(source, temporary)
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def _copy_synced(source: Path, target: Path) -> None:
    with open(source, "rb") as reader, open(target, "wb") as writer:
        shutil.copyfileobj(reader, writer, 1024 * 1024)
        writer.flush()
        os.fsync(writer.fileno())
