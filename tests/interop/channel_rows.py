"""What a channel database holds, read straight from the file with sqlite3 (read-only), so the
comparison with Kolibri does not go through our own models or Kolibri's.

    nodes = read_nodes(path)          # {node_id: NodeRow(parent_id, title, kind)}
    files = read_node_files(path)     # {(node_id, checksum, preset, lang_id), ...}
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import NamedTuple


class NodeRow(NamedTuple):
    parent_id: str | None
    title: str
    kind: str


class NodeFileRow(NamedTuple):
    node_id: str
    checksum: str
    extension: str
    preset: str
    supplementary: bool
    thumbnail: bool
    lang_id: str | None


def _connect(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def read_channel(path: Path) -> dict[str, object]:
    with _connect(path) as connection:
        row = connection.execute(
            "SELECT id, name, version, root_id FROM content_channelmetadata").fetchone()
    return {"id": row[0], "name": row[1], "version": row[2], "root": row[3]}


def read_nodes(path: Path) -> dict[str, NodeRow]:
    with _connect(path) as connection:
        rows = connection.execute("SELECT id, parent_id, title, kind FROM content_contentnode")
        return {node_id: NodeRow(parent_id, title, kind)
                for node_id, parent_id, title, kind in rows}


def read_node_files(path: Path) -> set[NodeFileRow]:
    with _connect(path) as connection:
        rows = connection.execute(
            "SELECT file.contentnode_id, file.local_file_id, localfile.extension, file.preset,"
            " file.supplementary, file.thumbnail, file.lang_id FROM content_file AS file"
            " JOIN content_localfile AS localfile ON localfile.id = file.local_file_id")
        return {NodeFileRow(node_id, checksum, extension, preset, bool(supplementary),
                            bool(thumbnail), lang_id)
                for node_id, checksum, extension, preset, supplementary, thumbnail, lang_id
                in rows}


def storage_names(files: set[NodeFileRow]) -> set[str]:
    """The storage file names (`<md5>.<ext>`) a set of file rows needs."""
    return {f"{row.checksum}.{row.extension}" for row in files}


# The tables of CHANNEL_FORMAT.md. `available` is device state (which files this server has),
# not channel content, so it is left out of node-for-node comparisons.
CHANNEL_TABLES = (
    "content_channelmetadata", "content_contentnode", "content_file", "content_localfile",
    "content_language", "content_assessmentmetadata", "content_contenttag",
    "content_contentnode_tags", "content_contentnode_related",
    "content_contentnode_has_prerequisite", "content_license",
)
DEVICE_STATE_COLUMNS = frozenset({"available"})


def read_table(path: Path, table: str, columns: list[str] | None = None) -> list[tuple[object, ...]]:
    """Every row of `table` (the given columns, by default all but device state), sorted."""
    with _connect(path) as connection:
        if columns is None:
            columns = table_columns(path, table)
        quoted = ", ".join(f'"{column}"' for column in columns)
        rows = connection.execute(f'SELECT {quoted} FROM "{table}"').fetchall()
    return sorted(rows, key=repr)


def table_columns(path: Path, table: str) -> list[str]:
    with _connect(path) as connection:
        return [row[1] for row in connection.execute(f'PRAGMA table_info("{table}")')
                if row[1] not in DEVICE_STATE_COLUMNS]
