"""The checks a channel database file passes before it is served (import, scan, build).

Opened read-only as an untrusted file: `trusted_schema=OFF` and `cell_size_check=ON`, then
`PRAGMA quick_check` before any other query, so a corrupt file or one whose views and triggers
call functions runs no SQL beyond these checks.

    info = check_channel_database(path, expected_channel_id=channel_id)
    info.name, info.version, info.node_count
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from channels.errors import InvalidChannelDatabaseError
from channels.schema_versions import DetectedSchema, describe, detect_schema
from routers.ids import is_valid_channel_id


@dataclass(frozen=True)
class ChannelDatabaseInfo:
    channel_id: str
    name: str
    description: str
    version: int
    root_id: str
    thumbnail: str
    node_count: int
    total_size: int
    min_schema_version: str


class OlderSchemaError(InvalidChannelDatabaseError):
    """The file is in an older content schema: an import installs a normalised copy of it."""

    def __init__(self, path: object, schema: DetectedSchema) -> None:
        super().__init__(path, f"it has {describe(schema.name)}, not the current one (an "
                               f"import installs a copy in the current schema)")
        self.schema = schema


def open_untrusted(path: Path) -> sqlite3.Connection:
    if not path.is_file():
        raise InvalidChannelDatabaseError(path, "no such file")
    try:
        connection = sqlite3.connect(f"file:{path.as_posix()}?mode=ro", uri=True,
                                     check_same_thread=False)
        connection.execute("PRAGMA trusted_schema=OFF")
        connection.execute("PRAGMA cell_size_check=ON")
    except sqlite3.Error as error:
        raise InvalidChannelDatabaseError(path, f"cannot open: {error}") from None
    return connection


def check_channel_database(path: Path, expected_channel_id: str | None = None, *,
                           full: bool = False, accept_older: bool = False) -> ChannelDatabaseInfo:
    """Check the file and read its channel metadata; raise InvalidChannelDatabaseError if it fails.

    A file in an older content schema is refused, or with `accept_older` (a drive's listing)
    checked as the normalised copy an import would install (channels.normalise)."""
    path = Path(path)
    connection = open_untrusted(path)
    try:
        _check_integrity(connection, path, full)
        _check_no_code(connection, path)
        schema = _check_schema(connection, path)
        if not schema.is_current:
            connection.close()
            return _check_older(path, schema, expected_channel_id, accept_older)
        info = _read_metadata(connection, path)
        _check_tree(connection, path, info.channel_id)
    except sqlite3.DatabaseError as error:
        raise InvalidChannelDatabaseError(path, str(error)) from None
    finally:
        connection.close()
    if expected_channel_id is not None and info.channel_id != expected_channel_id:
        raise InvalidChannelDatabaseError(
            path, f"it holds channel {info.channel_id}, not {expected_channel_id}")
    return info


def read_channel_metadata(path: Path, channel_id: str) -> ChannelDatabaseInfo:
    """Metadata of a file that passed `check_channel_database` when it was installed.

    No quick_check again: a revert must stay well under a second for any channel size.
    """
    connection = open_untrusted(Path(path))
    try:
        info = _read_metadata(connection, Path(path))
    except sqlite3.DatabaseError as error:
        raise InvalidChannelDatabaseError(path, str(error)) from None
    finally:
        connection.close()
    if info.channel_id != channel_id:
        raise InvalidChannelDatabaseError(path, f"it holds channel {info.channel_id}")
    return info


def _check_integrity(connection: sqlite3.Connection, path: Path, full: bool) -> None:
    pragma = "integrity_check" if full else "quick_check"
    try:
        rows = connection.execute(f"PRAGMA {pragma}").fetchall()
    except sqlite3.DatabaseError as error:
        raise InvalidChannelDatabaseError(path, f"{pragma} failed: {error}") from None
    if rows != [("ok",)]:
        first = "; ".join(str(row[0]) for row in rows[:3])
        raise InvalidChannelDatabaseError(path, f"{pragma} failed: {first}")
    journal = connection.execute("PRAGMA journal_mode").fetchone()[0]
    if str(journal).lower() == "wal":
        raise InvalidChannelDatabaseError(path, "it is in WAL mode; channel files must not be")


def _check_no_code(connection: sqlite3.Connection, path: Path) -> None:
    """Channel files hold tables and indexes only. A view or trigger is SQL the file's author
    wrote (it may call functions or never end): refused before anything could run it."""
    found = connection.execute(
        "SELECT type, name FROM sqlite_master WHERE type IN ('view', 'trigger') "
        "ORDER BY type, name LIMIT 6").fetchall()
    if found:
        named = ", ".join(f"{kind} {name!r}" for kind, name in found[:5])
        raise InvalidChannelDatabaseError(
            path, f"it defines {named}; a channel file holds tables and indexes only")


def _check_schema(connection: sqlite3.Connection, path: Path) -> DetectedSchema:
    schema = detect_schema(connection)
    if schema.problem:
        raise InvalidChannelDatabaseError(path, schema.problem)
    return schema


def _check_older(path: Path, schema: DetectedSchema, expected_channel_id: str | None,
                 accept_older: bool) -> ChannelDatabaseInfo:
    if not accept_older:
        raise OlderSchemaError(path, schema)
    from channels.normalise import normalised_copy

    with normalised_copy(path, schema) as copy:
        return check_channel_database(copy, expected_channel_id)


def _check_tree(connection: sqlite3.Connection, path: Path, channel_id: str) -> None:
    """One tree: one root, every parent present, MPTT intervals that nest."""
    roots = connection.execute(
        "SELECT COUNT(*) FROM content_contentnode WHERE parent_id IS NULL").fetchone()[0]
    if roots != 1:
        raise InvalidChannelDatabaseError(path, f"the tree has {roots} roots, not 1")
    orphans = connection.execute(
        "SELECT COUNT(*) FROM content_contentnode AS child "
        "LEFT JOIN content_contentnode AS parent ON parent.id = child.parent_id "
        "WHERE child.parent_id IS NOT NULL AND parent.id IS NULL").fetchone()[0]
    if orphans:
        raise InvalidChannelDatabaseError(path, f"{orphans} nodes name a parent that is missing")
    misplaced = connection.execute(
        "SELECT COUNT(*) FROM content_contentnode AS child "
        "JOIN content_contentnode AS parent ON parent.id = child.parent_id "
        "WHERE NOT (parent.lft < child.lft AND child.lft < child.rght "
        "AND child.rght < parent.rght AND child.level = parent.level + 1)").fetchone()[0]
    if misplaced:
        raise InvalidChannelDatabaseError(
            path, f"{misplaced} nodes lie outside their parent in the tree (lft/rght/level)")
    foreign = connection.execute(
        "SELECT COUNT(*) FROM content_contentnode WHERE channel_id != ?",
        (channel_id,)).fetchone()[0]
    if foreign:
        raise InvalidChannelDatabaseError(path, f"{foreign} nodes belong to another channel")


def _read_metadata(connection: sqlite3.Connection, path: Path) -> ChannelDatabaseInfo:
    rows = connection.execute(
        "SELECT id, name, description, version, root_id, thumbnail, min_schema_version "
        "FROM content_channelmetadata").fetchall()
    if len(rows) != 1:
        raise InvalidChannelDatabaseError(path, f"{len(rows)} channel metadata rows, not 1")
    channel_id, name, description, version, root_id, thumbnail, min_schema = rows[0]
    channel_id = str(channel_id).replace("-", "") if channel_id is not None else ""
    if not is_valid_channel_id(channel_id):
        raise InvalidChannelDatabaseError(path, f"malformed channel id {rows[0][0]!r}")
    root = connection.execute(
        "SELECT parent_id, channel_id FROM content_contentnode WHERE id = ?", (root_id,)
    ).fetchone()
    if root is None or root[0] is not None:
        raise InvalidChannelDatabaseError(path, "its root node is missing or has a parent")
    node_count = connection.execute("SELECT COUNT(*) FROM content_contentnode").fetchone()[0]
    total_size = connection.execute(
        "SELECT COALESCE(SUM(file_size), 0) FROM content_localfile").fetchone()[0]
    return ChannelDatabaseInfo(
        channel_id=channel_id, name=str(name or ""), description=str(description or ""),
        version=int(version or 0), root_id=str(root_id), thumbnail=str(thumbnail or ""),
        node_count=int(node_count), total_size=int(total_size or 0),
        min_schema_version=str(min_schema or ""))
