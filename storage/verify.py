"""Check every stored file against its name and the registry (`verifystorage [--repair]`).

Every file's MD5 is recomputed (and its SHA-256, against the registry). Findings:

- missing: a registry row whose file is gone;
- corrupt: bytes that do not match their name (or the SHA-256 or size the registry recorded);
- unregistered: a whole, correctly named file without a registry row;
- unrecognised: anything under `storage/` that is not `<c0>/<c1>/<md5>.<ext>` (never served;
  reported, not a problem);
- unreferenced ("orphaned" by its users): present, but no reference source claims it
  (`gcstorage` deletes it after the grace period; reported, not a problem: right after
  `deletechannel` every file of the channel is in this state until the collector runs).

A node is available only when its files have registry rows (`storage.files.present_checksums`),
so the row of a missing or corrupt file is always dropped: its nodes become unavailable at
once instead of promising bytes that are not there. With `repair`, corrupt bytes also move to
`CONTENT_DIR/quarantine/` (they are no longer served under a name they do not match), and
unregistered files that hash to their name get their row back. A re-import puts right bytes
back in either case.

    report = verify_storage(repair=True, progress=reporter.update)
    report.problem_count, report.affected    # checksum -> ["channel Maths (...) version 2"]
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from django.conf import settings

from storage.gc import DiskEntry, maintenance_lock, walk_storage
from storage.models import StoredFile
from storage.paths import storage_path
from storage.references import (
    ReferenceSource,
    ReferenceSourceError,
    describe_references,
    mark_referenced,
    reference_sources,
)

logger = logging.getLogger(__name__)

CHUNK_SIZE = 1024 * 1024
ProgressCallback = Callable[[str, int, int], None]


@dataclass(frozen=True)
class FileHashes:
    md5: str
    sha256: str
    size: int


def hash_file(path: Path) -> FileHashes:
    md5, sha256, size = hashlib.md5(), hashlib.sha256(), 0
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK_SIZE):
            md5.update(chunk)
            sha256.update(chunk)
            size += len(chunk)
    return FileHashes(md5.hexdigest(), sha256.hexdigest(), size)


@dataclass(frozen=True)
class Finding:
    checksum: str
    extension: str
    detail: str
    repaired: bool = False


@dataclass
class VerifyReport:
    repair: bool
    checked: int = 0
    missing: list[Finding] = field(default_factory=list)
    corrupt: list[Finding] = field(default_factory=list)
    unregistered: list[Finding] = field(default_factory=list)
    unrecognised: list[Path] = field(default_factory=list)
    unreferenced: list[str] = field(default_factory=list)
    # checksum -> who uses it, for every missing or corrupt file.
    affected: dict[str, list[str]] = field(default_factory=dict)
    source_errors: dict[str, str] = field(default_factory=dict)

    @property
    def problem_count(self) -> int:
        """What makes the command exit 4. Unreferenced files are garbage waiting for the
        collector and unrecognised names are never served: both are reported, not problems."""
        return (len(self.missing) + len(self.corrupt) + len(self.unregistered)
                + len(self.source_errors))


def quarantine_dir() -> Path:
    return Path(settings.CONTENT_DIR) / "quarantine"


def verify_storage(*, repair: bool = False, progress: ProgressCallback | None = None,
                   sources: list[ReferenceSource] | None = None,
                   wait_seconds: float = 0.0) -> VerifyReport:
    """Check every stored file (module doc). Holds the collector's lock, so that a file the
    collector is deleting is never reported missing and a repair never races a delete."""
    report = VerifyReport(repair=repair)
    with maintenance_lock(wait_seconds):
        rows = {row.checksum: row for row in _rows()}
        files, report.unrecognised = walk_storage()
        by_name = {(entry.checksum, entry.extension): entry for entry in files}
        loose = [entry for entry in files
                 if rows.get(entry.checksum) is None
                 or rows[entry.checksum].extension != entry.extension]
        total = len(rows) + len(loose)
        done = 0
        for row in rows.values():
            _check_row(row, by_name.get((row.checksum, row.extension)), report)
            done += 1
            _report_progress(progress, done, total)
        for entry in loose:
            _check_loose(entry, report)
            done += 1
            _report_progress(progress, done, total)
        report.checked = done
        _classify_references(report, sources)
    logger.info("verifystorage: %d checked, %d problem(s)", report.checked, report.problem_count)
    return report


@dataclass(frozen=True)
class RegistryRow:
    checksum: str
    extension: str
    size: int
    sha256: str


def _rows() -> list[RegistryRow]:
    rows = StoredFile.objects.values_list("checksum", "extension", "size", "sha256")
    return [RegistryRow(checksum, extension, size, sha256)
            for checksum, extension, size, sha256 in rows.iterator(chunk_size=2000)]


def _report_progress(progress: ProgressCallback | None, done: int, total: int) -> None:
    if progress is not None:
        progress("verify", done, total)


def _check_row(row: RegistryRow, entry: DiskEntry | None, report: VerifyReport) -> None:
    path = storage_path(row.checksum, row.extension)
    if entry is None:
        _drop_row(row.checksum)
        report.missing.append(Finding(row.checksum, row.extension, f"{path} is not there"))
        return
    try:
        hashes = hash_file(path)
    except FileNotFoundError:
        _drop_row(row.checksum)
        report.missing.append(Finding(row.checksum, row.extension, f"{path} vanished"))
        return
    problem = _mismatch(row, hashes)
    if problem is None:
        return
    _drop_row(row.checksum)
    moved = _quarantine(path) if report.repair else None
    detail = problem + (f"; moved to {moved}" if moved else "; still on disk (use --repair)")
    report.corrupt.append(Finding(row.checksum, row.extension, detail, repaired=moved is not None))


def _mismatch(row: RegistryRow, hashes: FileHashes) -> str | None:
    if hashes.md5 != row.checksum:
        return f"its bytes have MD5 {hashes.md5}"
    if row.sha256 and hashes.sha256 != row.sha256:
        return "its SHA-256 differs from the one recorded when it was stored"
    if hashes.size != row.size:
        return f"it has {hashes.size} bytes, the registry says {row.size}"
    return None


def _check_loose(entry: DiskEntry, report: VerifyReport) -> None:
    """A correctly named file with no row of its own (or a row under another extension)."""
    try:
        hashes = hash_file(entry.path)
    except FileNotFoundError:
        return
    if hashes.md5 != entry.checksum:
        moved = _quarantine(entry.path) if report.repair else None
        detail = f"its bytes have MD5 {hashes.md5}" + (
            f"; moved to {moved}" if moved else "; still on disk (use --repair)")
        report.corrupt.append(Finding(entry.checksum, entry.extension, detail,
                                      repaired=moved is not None))
        return
    repaired = False
    if report.repair:
        _row, repaired = StoredFile.objects.get_or_create(
            checksum=entry.checksum,
            defaults={"extension": entry.extension, "size": hashes.size,
                      "sha256": hashes.sha256})
    detail = "registered again" if repaired else (
        "no registry row (use --repair)" if not report.repair
        else "another extension of a registered file; left as it is")
    report.unregistered.append(Finding(entry.checksum, entry.extension, detail, repaired))


def _drop_row(checksum: str) -> None:
    StoredFile.objects.filter(checksum=checksum).delete()


def _quarantine(path: Path) -> Path | None:
    """Move bad bytes out of the served tree (same filesystem: a rename)."""
    folder = quarantine_dir()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{path.name}.{int(time.time())}-{uuid.uuid4().hex[:6]}"
    try:
        os.replace(path, target)
    except FileNotFoundError:
        return None
    return target


def _classify_references(report: VerifyReport, sources: list[ReferenceSource] | None) -> None:
    """Who uses the missing and corrupt files; which present files nobody uses."""
    try:
        active = reference_sources() if sources is None else sources
    except Exception as error:  # noqa: BLE001 - reported beside the findings, not fatal
        report.source_errors["configuration"] = str(error)
        return
    damaged = {finding.checksum for finding in (*report.missing, *report.corrupt)}
    report.affected, failures = describe_references(active, damaged)
    report.source_errors.update(failures)
    try:
        referenced = mark_referenced(active).checksums
    except ReferenceSourceError as error:
        report.source_errors[error.source_name] = str(error)
        return
    present = StoredFile.objects.values_list("checksum", flat=True).iterator(chunk_size=2000)
    report.unreferenced = sorted(checksum for checksum in present if checksum not in referenced)
