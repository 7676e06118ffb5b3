"""The files channels keep alive: the reference source of `channels` for the file store.

Every kept version (not only the current one: a revert must find its files) lists its files in
`ChannelVersionFile`. As a safety net, the `LocalFile` ids of every served channel file in
`CONTENT_DIR/databases/` count too, so a file dropped in by hand and not yet scanned, or a
registry that lost its version rows, never makes the collector delete what is being served.

    source = ChannelReferenceSource()
    source.referenced_checksums()                 # every MD5 any kept version uses
    source.describe_references({checksum})        # {checksum: ["channel Maths (...) version 2, current"]}

Listed in `STORAGE_REFERENCE_SOURCES` (storage.references says why a setting).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from django.conf import settings

from channels.checks import open_untrusted
from channels.errors import InvalidChannelDatabaseError
from channels.models import Channel, ChannelVersionFile
from routers.ids import is_valid_channel_id
from storage.paths import is_valid_checksum

QUERY_CHUNK = 900
ROW_CHUNK = 5000


class ServedFileUnreadableError(Exception):
    """A served channel file whose file list cannot be read: the collector must delete nothing."""

    exit_code = 4

    def __init__(self, path: Path, error: Exception) -> None:
        super().__init__(f"cannot read the file list of the served channel file {path}: {error}")


class ChannelReferenceSource:
    """Checksums of every file of every kept version, plus those named by served files."""

    name = "channels"

    def referenced_checksums(self) -> set[str]:
        rows = ChannelVersionFile.objects.values_list("checksum", flat=True)
        checksums = {checksum for checksum in rows.iterator(chunk_size=ROW_CHUNK)
                     if is_valid_checksum(checksum)}
        return checksums | served_file_checksums()

    def describe_references(self, checksums: set[str]) -> dict[str, list[str]]:
        """Which channel versions use each of `checksums`, current version first."""
        ordered = sorted(checksum for checksum in checksums if is_valid_checksum(checksum))
        users: dict[str, list[str]] = {}
        for start in range(0, len(ordered), QUERY_CHUNK):
            rows = (ChannelVersionFile.objects
                    .filter(checksum__in=ordered[start:start + QUERY_CHUNK])
                    .values_list("checksum", "version__channel_id", "version__channel__name",
                                 "version__number", "version__channel__version")
                    .order_by("checksum", "version__channel_id", "-version__number"))
            for checksum, channel_id, name, number, current in rows:
                users.setdefault(checksum, []).append(
                    describe_version(channel_id, name, number, current))
        return users


def describe_version(channel_id: str, name: str, number: int, current: int) -> str:
    label = f"channel {name} ({channel_id}) version {number}"
    return f"{label}, current" if number == current else label


def served_file_checksums(databases_dir: Path | None = None) -> set[str]:
    """`LocalFile` ids of every `<channel_id>.sqlite3` in the databases folder.

    A file that cannot be read raises ServedFileUnreadableError, except one the registry
    already rejected (never served, so it keeps nothing alive) or one deleted while we looked.
    """
    folder = Path(settings.CONTENT_DATABASE_DIR) if databases_dir is None else databases_dir
    rejected = set(Channel.objects.filter(state=Channel.State.REJECTED)
                   .values_list("id", flat=True))
    checksums: set[str] = set()
    for path in sorted(folder.glob("*.sqlite3")):
        channel_id = path.name.removesuffix(".sqlite3")
        if not is_valid_channel_id(channel_id):
            continue
        try:
            checksums |= _local_file_ids(path)
        except (sqlite3.DatabaseError, InvalidChannelDatabaseError) as error:
            if channel_id in rejected or not path.exists():
                continue
            raise ServedFileUnreadableError(path, error) from error
    return checksums


def _local_file_ids(path: Path) -> set[str]:
    connection = open_untrusted(path)
    try:
        rows = connection.execute("SELECT id FROM content_localfile")
        return {str(value) for (value,) in rows if is_valid_checksum(value)}
    finally:
        connection.close()
