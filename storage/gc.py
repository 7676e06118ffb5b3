"""Garbage collection of stored files: mark what the reference sources claim, sweep the rest.

Storage keeps a file while any reference source (`storage.references`: channel versions,
drafts, certificates) claims it, or while it is younger than the grace period
(`STORAGE_GC_GRACE_SECONDS`, a day by default). Invariant 3 says nothing in flight is ever
collected; this is how:

1. Take the collector lock (`CONTENT_DIR/locks/gc.lock`, flock: one collector or storage
   check at a time; the kernel drops it if the holder dies).
2. Snapshot the store: every registry row and every file under `storage/<c0>/<c1>/`, with its
   age. Uploads, imports and encodes write in the temp area and rename into storage only when
   whole, so a file still being written is never in the store; a file renamed in after the
   snapshot is not in it either, so it cannot be a candidate, whatever the clock says.
3. Mark: the union of every source's checksums. If any source fails, delete nothing.
4. Candidates: snapshot entries nobody marked whose row and file are older than the grace
   period (a file's age is the later of its mtime and ctime: a rename refreshes the ctime).
5. Confirm: ask every source again, and keep whatever became referenced meanwhile (a publish
   that re-used an old file while we were marking).
6. Sweep in batches, under the store lock: re-stat each file and skip it if it changed since
   the snapshot; delete the registry row (only the row we saw), then the file, so a row never
   claims a file that is already gone.

    report = collect_garbage(dry_run=True)
    report.deleted, report.bytes_freed
"""

from __future__ import annotations

import fcntl
import logging
import os
import time
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Iterator

from django.conf import settings
from django.db import transaction

from storage.models import StoredFile
from storage.paths import (
    InvalidStorageNameError,
    parse_storage_name,
    storage_root,
)
from storage.references import ReferenceSource, mark_referenced, reference_sources

logger = logging.getLogger(__name__)

DEFAULT_GRACE_SECONDS = 24 * 60 * 60
SWEEP_BATCH = 500
LOCK_POLL_SECONDS = 0.1
HEX_DIGITS = frozenset("0123456789abcdef")


class StorageBusyError(Exception):
    """Another collector or storage check holds the lock (exit 7, as any conflict)."""

    exit_code = 7


def grace_seconds() -> int:
    value = getattr(settings, "STORAGE_GC_GRACE_SECONDS", DEFAULT_GRACE_SECONDS)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"STORAGE_GC_GRACE_SECONDS must be a whole number >= 0, not {value!r}")
    return value


def _lock_file(name: str) -> Path:
    folder = Path(settings.CONTENT_DIR) / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name


@contextmanager
def _flock(path: Path, operation: int, wait_seconds: float, busy_message: str) -> Iterator[None]:
    """Hold `flock(operation)` on `path`, polling up to `wait_seconds` (a bounded loop)."""
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + max(0.0, wait_seconds)
        while True:
            try:
                fcntl.flock(descriptor, operation | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise StorageBusyError(busy_message) from None
                time.sleep(LOCK_POLL_SECONDS)
        try:
            yield
        finally:
            fcntl.flock(descriptor, fcntl.LOCK_UN)
    finally:
        os.close(descriptor)


def named_lock(name: str, *, wait_seconds: float,
               busy_message: str) -> AbstractContextManager[None]:
    """An exclusive lock `CONTENT_DIR/locks/<name>` for other apps' one-at-a-time work (the
    kernel drops it if the holder dies); StorageBusyError after `wait_seconds`."""
    return _flock(_lock_file(name), fcntl.LOCK_EX, wait_seconds, busy_message)


def maintenance_lock(wait_seconds: float = 0.0) -> AbstractContextManager[None]:
    """One collector or storage check at a time, across processes: StorageBusyError if held."""
    path = _lock_file("gc.lock")
    return _flock(path, fcntl.LOCK_EX, wait_seconds,
                  f"another garbage collection or storage check is running (lock {path} is "
                  f"held); nothing was done, try again when it has finished")


def store_write_lock(*, shared: bool,
                     wait_seconds: float = 30.0) -> AbstractContextManager[None]:
    """The collector deletes under the exclusive lock; a writer that re-uses a stored file may
    hold it shared (see the module doc, step 6), so a delete never lands between its check that
    the file is there and the row it relies on."""
    operation = fcntl.LOCK_SH if shared else fcntl.LOCK_EX
    return _flock(_lock_file("store.lock"), operation, wait_seconds,
                  "the file store is busy deleting garbage; try again")


@dataclass(frozen=True)
class DiskEntry:
    """A file under `storage/<c0>/<c1>/`, as it was when seen."""

    checksum: str
    extension: str
    path: Path
    size: int
    # (inode, size, mtime_ns, ctime_ns): any change means someone touched the file since.
    identity: tuple[int, int, int, int]
    stamp: float


def _identity(status: os.stat_result) -> tuple[int, int, int, int]:
    return (status.st_ino, status.st_size, status.st_mtime_ns, status.st_ctime_ns)


def walk_storage(root: Path | None = None) -> tuple[list[DiskEntry], list[Path]]:
    """(stored files, entries that are not `<c0>/<c1>/<md5>.<ext>`), never following links.

    Bounded: two levels of one-character folders, then the files in each.
    """
    root = storage_root() if root is None else root
    entries: list[DiskEntry] = []
    unrecognised: list[Path] = []
    if not root.is_dir():
        return entries, unrecognised
    for first in sorted(os.scandir(root), key=lambda item: item.name):
        if not (first.is_dir(follow_symlinks=False) and first.name in HEX_DIGITS):
            unrecognised.append(Path(first.path))
            continue
        for second in sorted(os.scandir(first.path), key=lambda item: item.name):
            if not (second.is_dir(follow_symlinks=False) and second.name in HEX_DIGITS):
                unrecognised.append(Path(second.path))
                continue
            for item in os.scandir(second.path):
                entry = _disk_entry(item, first.name, second.name)
                if entry is None:
                    unrecognised.append(Path(item.path))
                else:
                    entries.append(entry)
    return entries, unrecognised


def _disk_entry(item: os.DirEntry[str], first: str, second: str) -> DiskEntry | None:
    if not item.is_file(follow_symlinks=False):
        return None
    try:
        checksum, extension = parse_storage_name(item.name)
    except InvalidStorageNameError:
        return None
    if checksum[0] != first or checksum[1] != second:
        return None
    try:
        status = item.stat(follow_symlinks=False)
    except FileNotFoundError:
        return None
    return DiskEntry(checksum, extension, Path(item.path), status.st_size, _identity(status),
                     max(status.st_mtime, status.st_ctime))


@dataclass(frozen=True)
class RowEntry:
    checksum: str
    extension: str
    size: int
    added_at: datetime


def registry_rows() -> dict[str, RowEntry]:
    rows = StoredFile.objects.values_list("checksum", "extension", "size", "added_at")
    return {checksum: RowEntry(checksum, extension, size, added_at)
            for checksum, extension, size, added_at in rows.iterator(chunk_size=2000)}


@dataclass(frozen=True)
class CollectedFile:
    checksum: str
    extensions: tuple[str, ...]
    size: int
    had_row: bool


@dataclass
class GcReport:
    dry_run: bool
    grace_seconds: int
    examined: int = 0
    referenced: int = 0
    young: int = 0
    changed: int = 0
    deleted: list[CollectedFile] = field(default_factory=list)
    sources: dict[str, int] = field(default_factory=dict)

    @property
    def bytes_freed(self) -> int:
        return sum(item.size for item in self.deleted)

    def as_dict(self) -> dict[str, object]:
        return {"dry_run": self.dry_run, "examined": self.examined,
                "referenced": self.referenced, "young": self.young, "changed": self.changed,
                "deleted": len(self.deleted), "bytes_freed": self.bytes_freed}


@dataclass
class _Candidate:
    row: RowEntry | None
    files: list[DiskEntry]


def collect_garbage(*, dry_run: bool = False, grace: int | None = None,
                    now: float | None = None, wait_seconds: float = 0.0,
                    sources: list[ReferenceSource] | None = None) -> GcReport:
    """Delete stored files nothing references and older than the grace period (module doc).

    `now` (seconds since the epoch) lets tests and operators judge ages as of another time;
    raises StorageBusyError, ReferenceSourceError or NoReferenceSourcesError having deleted
    nothing.
    """
    started = time.time() if now is None else now
    grace = grace_seconds() if grace is None else grace
    report = GcReport(dry_run=dry_run, grace_seconds=grace)
    with maintenance_lock(wait_seconds):
        active_sources = reference_sources() if sources is None else sources
        candidates = _snapshot()
        report.examined = len(candidates)
        mark = mark_referenced(active_sources)
        report.sources = dict(mark.per_source)
        cutoff = started - grace
        unreferenced = {checksum: candidate for checksum, candidate in candidates.items()
                        if checksum not in mark.checksums}
        report.referenced = len(candidates) - len(unreferenced)
        old = {checksum: candidate for checksum, candidate in unreferenced.items()
               if _is_older_than(candidate, cutoff)}
        report.young = len(unreferenced) - len(old)
        if old:
            confirmed = mark_referenced(active_sources).checksums
            report.referenced += sum(1 for checksum in old if checksum in confirmed)
            old = {checksum: item for checksum, item in old.items() if checksum not in confirmed}
        ordered = sorted(old)
        for start in range(0, len(ordered), SWEEP_BATCH):
            batch = {checksum: old[checksum] for checksum in ordered[start:start + SWEEP_BATCH]}
            _sweep(batch, report)
    logger.info("gcstorage%s: %s", " (dry run)" if dry_run else "", report.as_dict())
    return report


def _snapshot() -> dict[str, _Candidate]:
    """Rows first, then files: a file renamed in between has its row written after it, so it
    is seen (if at all) as a young file without a row, never as a row without its file."""
    candidates = {checksum: _Candidate(row, []) for checksum, row in registry_rows().items()}
    files, _unrecognised = walk_storage()
    for entry in files:
        candidates.setdefault(entry.checksum, _Candidate(None, [])).files.append(entry)
    return candidates


def _is_older_than(candidate: _Candidate, cutoff: float) -> bool:
    if candidate.row is not None and candidate.row.added_at.timestamp() >= cutoff:
        return False
    return all(entry.stamp < cutoff for entry in candidate.files)


def _unchanged(entry: DiskEntry) -> bool:
    try:
        status = os.stat(entry.path, follow_symlinks=False)
    except FileNotFoundError:
        return False
    return _identity(status) == entry.identity


def _sweep(batch: dict[str, _Candidate], report: GcReport) -> None:
    """One batch of step 6: re-check, then row first, then file."""
    with store_write_lock(shared=False):
        still_old = {checksum: candidate for checksum, candidate in batch.items()
                     if all(_unchanged(entry) for entry in candidate.files)}
        report.changed += len(batch) - len(still_old)
        if report.dry_run:
            report.deleted.extend(_collected(candidate) for candidate in still_old.values())
            return
        removable: dict[str, _Candidate] = {}
        with transaction.atomic():
            for checksum, candidate in still_old.items():
                if candidate.row is not None:
                    deleted, _by_model = StoredFile.objects.filter(
                        checksum=checksum, added_at=candidate.row.added_at).delete()
                    if deleted == 0:
                        # Re-registered since the snapshot: someone relies on it now.
                        report.changed += 1
                        continue
                removable[checksum] = candidate
        for candidate in removable.values():
            for entry in candidate.files:
                entry.path.unlink(missing_ok=True)
            report.deleted.append(_collected(candidate))


def _collected(candidate: _Candidate) -> CollectedFile:
    row = candidate.row
    checksum = row.checksum if row is not None else candidate.files[0].checksum
    extensions = tuple(sorted({entry.extension for entry in candidate.files}))
    return CollectedFile(checksum, extensions, sum(entry.size for entry in candidate.files),
                         had_row=row is not None)


def delete_if_unreferenced(checksums: set[str], *, wait_seconds: float = 30.0,
                           sources: list[ReferenceSource] | None = None) -> list[CollectedFile]:
    """Delete the given stored files now, without a grace period, unless a source claims them.

    For owners that know their files just became garbage (a cancelled draft, a removed upload,
    the outputs of an encode whose draft is gone). Safe without a grace period because the
    mark is taken under the exclusive store lock: a writer that holds the lock shared from its
    `put_file` until the row that references the file is committed (uploads and encodes do)
    is either finished, and its row is marked, or has not stored yet. Raises like
    `collect_garbage` (busy, a failing source) having deleted nothing.
    """
    wanted = {checksum for checksum in checksums if checksum}
    if not wanted:
        return []
    deleted: list[CollectedFile] = []
    with maintenance_lock(wait_seconds), store_write_lock(shared=False,
                                                          wait_seconds=wait_seconds):
        active_sources = reference_sources() if sources is None else sources
        marked = mark_referenced(active_sources).checksums
        garbage = sorted(wanted - marked)
        rows = {row.checksum: row for row in StoredFile.objects.filter(checksum__in=garbage)}
        for checksum in garbage:
            root = storage_root() / checksum[0] / checksum[1]
            files = sorted(root.glob(f"{checksum}.*")) if root.is_dir() else []
            entries = [_disk_entry_at(path, checksum) for path in files]
            present = [entry for entry in entries if entry is not None]
            row = rows.get(checksum)
            with transaction.atomic():
                StoredFile.objects.filter(checksum=checksum).delete()
            for entry in present:
                entry.path.unlink(missing_ok=True)
            if present or row is not None:
                deleted.append(CollectedFile(
                    checksum, tuple(sorted(entry.extension for entry in present)),
                    sum(entry.size for entry in present), had_row=row is not None))
    if deleted:
        logger.info("deleted %s unreferenced stored files: %s", len(deleted),
                    [item.checksum for item in deleted])
    return deleted


def _disk_entry_at(path: Path, checksum: str) -> DiskEntry | None:
    try:
        name_checksum, extension = parse_storage_name(path.name)
        status = os.stat(path, follow_symlinks=False)
    except (InvalidStorageNameError, FileNotFoundError):
        return None
    if name_checksum != checksum:
        return None
    return DiskEntry(checksum, extension, path, status.st_size, _identity(status),
                     max(status.st_mtime, status.st_ctime))
