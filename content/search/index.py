"""Search index files: one SQLite FTS5 file per channel version, never half-built.

Built from the version's channel file (opened read-only, never written) with two connections
that share nothing: rows are read from the channel file and inserted into a new file in the
same folder as the index, which is synced and renamed into place. A crash leaves no index or
a whole one (a stray `.partial` file is removed by the next build of that version).

    path = build_search_index(channel_id, 3, version_file)   # no-op if it exists already
    ensure_search_indexes(["<channel_id>", ...])             # index what the served files are
    remove_search_indexes(channel_id)                        # with the channel

Layout: `CONTENT_DIR/databases/search/<channel_id>/<version>.sqlite3`. An index belongs to an
immutable version, so it never changes once in place and is opened read-only and `immutable`.
"""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import threading
import unicodedata
import uuid
from pathlib import Path
from typing import Iterable

from django.conf import settings

from routers.ids import is_valid_channel_id
from routers.registry import channel_database_path
from storage.files import fsync_directory

logger = logging.getLogger(__name__)

# Written as `PRAGMA user_version`; an index of another format is rebuilt by `ensure_...`.
INDEX_FORMAT = 2
INSERT_BATCH = 5000
# `unicode61 remove_diacritics 2` folds case and accents ("Équation" finds "equation").
# `categories` adds the combining marks (M*) to the word characters: by default Indic vowel
# signs split words into single letters ("हिन्दी" became "ह", "न", "द"). Text is NFC-normalised
# first, so a decomposed "e" + U+0301 folds like "é". No `prefix=` option: measured on 5,000
# nodes, it made prefix queries no faster and the file 40% bigger.
TOKENIZER = "unicode61 remove_diacritics 2 categories 'L* N* Co M*'"
CREATE_TABLE = (
    "CREATE VIRTUAL TABLE node_search USING fts5("
    "title, description, node_id UNINDEXED, content_id UNINDEXED, kind UNINDEXED, "
    f"lang UNINDEXED, tokenize = \"{TOKENIZER}\")")
NODE_ROWS = ("SELECT title, COALESCE(description, ''), id, content_id, kind, lang_id "
             "FROM content_contentnode")

_build_locks: dict[Path, threading.Lock] = {}
_build_locks_guard = threading.Lock()


class SearchIndexError(Exception):
    """A channel file could not be read to build its index."""


def search_root() -> Path:
    return Path(settings.CONTENT_DATABASE_DIR) / "search"


def search_index_dir(channel_id: str) -> Path:
    if not is_valid_channel_id(channel_id):
        raise ValueError(f"not a channel id: {channel_id!r}")
    return search_root() / channel_id


def search_index_path(channel_id: str, version: int) -> Path:
    return search_index_dir(channel_id) / f"{int(version)}.sqlite3"


def open_read_only(path: Path, *, immutable: bool = False) -> sqlite3.Connection:
    """A read-only connection; a missing file is an error, never a new empty database."""
    flags = "mode=ro&immutable=1" if immutable else "mode=ro"
    return sqlite3.connect(f"file:{path.as_posix()}?{flags}", uri=True,
                           check_same_thread=False)


def build_search_index(channel_id: str, version: int, source: Path) -> Path:
    """Index the nodes of `source` (the channel file of `version`) unless already indexed."""
    target = search_index_path(channel_id, version)
    with _lock_for(target):
        if _is_current_format(target):
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        for leftover in target.parent.glob(f".{target.name}.*.partial"):
            leftover.unlink(missing_ok=True)
        partial = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.partial")
        try:
            _write_index(source, partial)
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)
        fsync_directory(target.parent)
    return target


def index_channel_version(channel_id: str, version: int, source: Path) -> None:
    """The hook `channels.versions` calls when a version is made current (publish, import,
    revert): before the registry names the version, so searches find its index in place.

    A failure is logged, not raised: the channel is served all the same, and the first
    search (or the next start-up) tries again.
    """
    try:
        build_search_index(channel_id, version, source)
    except (SearchIndexError, OSError) as error:
        logger.warning("search index of %s v%s not built: %s", channel_id, version, error)


def _write_index(source: Path, partial: Path) -> int:
    reader = open_read_only(source)
    writer = sqlite3.connect(partial)
    try:
        # A new file nobody reads until the rename: no journal while writing; the rollback
        # journal (never WAL, DESIGN.md) for its life as a read-only file.
        writer.execute("PRAGMA journal_mode=OFF")
        writer.execute("PRAGMA synchronous=OFF")
        writer.execute(CREATE_TABLE)
        rows = reader.execute(NODE_ROWS)
        count = 0
        while batch := rows.fetchmany(INSERT_BATCH):
            batch = [(_nfc(title), _nfc(description), *rest)
                     for title, description, *rest in batch]
            writer.executemany("INSERT INTO node_search (title, description, node_id, "
                               "content_id, kind, lang) VALUES (?, ?, ?, ?, ?, ?)", batch)
            count += len(batch)
        # One b-tree segment instead of many: fewer pages to read per query.
        writer.execute("INSERT INTO node_search (node_search) VALUES ('optimize')")
        writer.execute(f"PRAGMA user_version = {INDEX_FORMAT}")
        writer.commit()
        writer.execute("PRAGMA journal_mode=DELETE")
    except sqlite3.DatabaseError as error:
        raise SearchIndexError(f"cannot index {source}: {error}") from None
    finally:
        writer.close()
        reader.close()
    with open(partial, "rb+") as handle:
        os.fsync(handle.fileno())
    return count


def _nfc(text: object) -> str:
    return unicodedata.normalize("NFC", str(text or ""))


def served_version(channel_id: str) -> int | None:
    """The version number recorded inside the served channel file, None if there is none."""
    path = channel_database_path(channel_id)
    if not path.is_file():
        return None
    try:
        connection = open_read_only(path)
        try:
            row = connection.execute("SELECT version FROM content_channelmetadata WHERE id = ?",
                                     (channel_id,)).fetchone()
        finally:
            connection.close()
    except sqlite3.DatabaseError:
        return None
    return int(row[0]) if row is not None else None


def index_served_channel(channel_id: str) -> Path | None:
    """Build the index of the version the served file holds; None if it cannot be read.

    The served file is a hard link to (or copy of) that version's immutable file: same bytes.
    """
    version = served_version(channel_id)
    if version is None:
        return None
    try:
        return build_search_index(channel_id, version, channel_database_path(channel_id))
    except SearchIndexError as error:
        logger.warning("search index not built: %s", error)
        return None


def ensure_search_indexes(channel_ids: Iterable[str]) -> list[str]:
    """Index every listed channel's served version that has no index yet; return those built.

    Run at start-up (`scanchannels`), so channels installed before search existed are indexed.
    """
    built = []
    for channel_id in channel_ids:
        version = served_version(channel_id)
        if version is None or _is_current_format(search_index_path(channel_id, version)):
            continue
        if index_served_channel(channel_id) is not None:
            built.append(channel_id)
    return built


def remove_search_indexes(channel_id: str) -> None:
    """Remove every index of the channel (called when the channel is deleted)."""
    from content.search.cards import forget_card_connections
    from content.search.query import forget_connections

    forget_connections(channel_id)
    forget_card_connections(channel_id)
    folder = search_index_dir(channel_id)
    shutil.rmtree(folder, ignore_errors=True)
    fsync_directory(folder.parent)


def _is_current_format(path: Path) -> bool:
    if not path.is_file():
        return False
    try:
        connection = open_read_only(path)
        try:
            return connection.execute("PRAGMA user_version").fetchone()[0] == INDEX_FORMAT
        finally:
            connection.close()
    except sqlite3.DatabaseError:
        return False


def _lock_for(path: Path) -> threading.Lock:
    # Two threads asking for the same missing index build it once; other processes may race,
    # which costs time, not correctness (each writes its own partial file, then renames).
    with _build_locks_guard:
        return _build_locks.setdefault(path, threading.Lock())
