"""Store many files with one filesystem sync per batch instead of two fsyncs per file.

`put_file` makes each file durable on its own (an fsync of the file, one of its folder, a
commit): two journal commits per file bound a drive import of small files to a few hundred
files a second. A batch writes its files into the temp area hashed and checked but not synced,
and then, once per batch (`commit`):

1. syncs the filesystem: every temp file's bytes are on the disk;
2. under the store's shared write lock, renames them into place (a copy already there is
   hashed first if it is not registered, as `put_file` does);
3. syncs again: the renames are on the disk;
4. registers the new rows in one transaction, one `executemany`.

So a file registered present is whole and durable (DESIGN invariant 4), and a file at its place
in the store is whole: a crash before step 2 leaves only temp files (purgetemp's job), one
before step 4 whole unregistered files that the next store of them hashes before registering.

Batches start at one file and double up to MAX_BATCH_FILES (or MAX_BATCH_BYTES): the first
files of an import are registered at once, and a large import syncs once per thousand files.

    with StoreBatch() as batch:
        for path in paths:
            batch.stage(path, "mp4", expected_checksum=checksum)
            if batch.is_full:
                outcome = batch.commit()
    # leaving the block commits what is staged (files already checked); if that fails the
    # staged files are removed
"""

from __future__ import annotations

import ctypes
import os
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from django.db import connections, transaction
from django.utils import timezone

from storage.files import (
    ChecksumCollisionError,
    PutResult,
    StagedFile,
    place_staged,
    stage_file,
)
from storage.models import StoredFile
from storage.paths import storage_root, temp_root

MAX_BATCH_FILES = 1024
MAX_BATCH_BYTES = 256 * 1024 * 1024
# Under every database's limit on query parameters.
QUERY_CHUNK = 900


def sync_filesystem(path: Path) -> None:
    """Flush every written file and entry of the filesystem holding `path`: one journal commit
    for a whole batch (syncfs), or `os.sync` of every filesystem where syncfs is missing."""
    syncfs = getattr(_libc(), "syncfs", None)
    if syncfs is None:
        os.sync()
        return
    descriptor = os.open(path, os.O_RDONLY)
    try:
        if syncfs(descriptor) != 0:
            error = ctypes.get_errno()
            raise OSError(error, f"syncfs of {path}: {os.strerror(error)}")
    finally:
        os.close(descriptor)


_LIBC: list[ctypes.CDLL] = []


def _libc() -> ctypes.CDLL:
    if not _LIBC:
        _LIBC.append(ctypes.CDLL(None, use_errno=True))
    return _LIBC[0]


@dataclass
class BatchOutcome:
    """What one commit stored, and the files refused for an MD5 collision."""

    stored: list[PutResult] = field(default_factory=list)
    collisions: list[tuple[StagedFile, str]] = field(default_factory=list)


class StoreBatch:
    """Files staged now, stored and registered together by `commit`; see the module doc."""

    def __init__(self) -> None:
        self._staged: dict[str, StagedFile] = {}
        self._bytes = 0
        self._limit = 1
        self._temp_dir = str(temp_root())
        self._root = str(storage_root())
        os.makedirs(self._temp_dir, exist_ok=True)

    @property
    def staged_count(self) -> int:
        return len(self._staged)

    @property
    def is_full(self) -> bool:
        return len(self._staged) >= self._limit or self._bytes >= MAX_BATCH_BYTES

    def stage(self, source: BinaryIO | Path | bytes, extension: str, *,
              expected_checksum: str | None = None) -> StagedFile:
        """Copy and hash `source` into the temp area (ChecksumMismatchError if its MD5 is not
        `expected_checksum`); it is stored at the next commit."""
        staged = stage_file(source, extension, expected_checksum=expected_checksum,
                            durable=False, temp_dir=self._temp_dir)
        if staged.checksum in self._staged:
            _unlink_quietly(staged.temp_path)  # the same bytes twice: stored once
            return self._staged[staged.checksum]
        self._staged[staged.checksum] = staged
        self._bytes += staged.size
        return staged

    def staged_file(self, checksum: str) -> StagedFile | None:
        """The file staged under `checksum`, not stored yet (for checks of its content)."""
        return self._staged.get(checksum)

    def unstage(self, checksum: str) -> None:
        """Drop a staged file that a check of its content refused: it is never stored."""
        staged = self._staged.pop(checksum, None)
        if staged is not None:
            _unlink_quietly(staged.temp_path)
            self._bytes -= staged.size

    def commit(self) -> BatchOutcome:
        """Store and register every staged file (steps 1-4 of the module doc)."""
        from storage.gc import store_write_lock  # the collector imports storage.files

        outcome = BatchOutcome()
        staged = list(self._staged.values())
        if not staged:
            return outcome
        sync_filesystem(Path(self._temp_dir))
        left: list[StagedFile] = list(staged)  # still in the temp area
        try:
            with store_write_lock(shared=True):
                known = _registered_sha256([item.checksum for item in staged])
                new_rows: list[StagedFile] = []
                left = []
                for item in staged:
                    try:
                        created = place_staged(item, known.get(item.checksum), durable=False,
                                               root=self._root)
                    except ChecksumCollisionError as collision:
                        outcome.collisions.append((item, str(collision)))
                        left.append(item)
                        continue
                    except BaseException:
                        left.extend(staged[staged.index(item):])
                        raise
                    if not created:
                        left.append(item)
                    outcome.stored.append(PutResult(item.checksum, item.extension, item.size,
                                                    item.sha256, created))
                    if item.checksum not in known:
                        new_rows.append(item)
                sync_filesystem(Path(self._root))
                _register(new_rows)
        finally:
            self._discard(left)
        self._limit = min(self._limit * 2, MAX_BATCH_FILES)
        return outcome

    def discard(self) -> None:
        """Remove the staged files (not stored)."""
        self._discard(list(self._staged.values()))

    def _discard(self, staged: list[StagedFile]) -> None:
        for item in staged:
            _unlink_quietly(item.temp_path)
        self._staged.clear()
        self._bytes = 0

    def __enter__(self) -> StoreBatch:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        if kind is None:
            self.commit()
            return
        # Stopped (a source gone, Ctrl-C): the files staged so far are whole and checked, so
        # they are kept; if storing them fails too, the first error is the one to report.
        try:
            self.commit()
        except Exception:  # noqa: BLE001 - the error in flight is reported, not this one
            self.discard()


def _unlink_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _registered_sha256(checksums: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for start in range(0, len(checksums), QUERY_CHUNK):
        found.update(StoredFile.objects.filter(checksum__in=checksums[start:start + QUERY_CHUNK])
                     .values_list("checksum", "sha256"))
    return found


def _register(rows: list[StagedFile]) -> None:
    """One executemany of plain tuples; a row another process added meanwhile is kept."""
    if not rows:
        return
    default = connections["default"]
    table = default.ops.quote_name(StoredFile._meta.db_table)
    added_at = default.ops.adapt_datetimefield_value(timezone.now())
    statement = (f"INSERT INTO {table} (checksum, extension, size, sha256, added_at) "
                 "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (checksum) DO NOTHING")
    with transaction.atomic(using="default"), default.cursor() as cursor:
        cursor.executemany(statement, [(item.checksum, item.extension, item.size,
                                        item.sha256, added_at) for item in rows])
