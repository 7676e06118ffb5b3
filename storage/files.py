"""Put, open, find and delete stored files. Writes are crash-safe (invariant 4).

`put_file` streams bytes into a temp file in the temp area (same filesystem as the store),
hashing MD5 and SHA-256 as it writes, fsyncs, and renames it into `<c0>/<c1>/<md5>.<ext>`; a
crash leaves either no file or a whole one. A file already present is not written again; one
whose MD5 matches but whose SHA-256 differs raises `ChecksumCollisionError` instead of being
served in place of the other.

    stored = put_file(open("lesson.mp4", "rb"), "mp4")
    stored.checksum, stored.size, stored.created
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from storage.models import StoredFile
from storage.paths import (
    storage_path,
    temp_root,
    validate_checksum,
    validate_extension,
)

CHUNK_SIZE = 1024 * 1024


class StorageError(Exception):
    exit_code = 6


class ChecksumCollisionError(StorageError):
    exit_code = 4


class ChecksumMismatchError(StorageError):
    exit_code = 4


@dataclass(frozen=True)
class PutResult:
    checksum: str
    extension: str
    size: int
    sha256: str
    created: bool

    @property
    def path(self) -> Path:
        return storage_path(self.checksum, self.extension)


def fsync_directory(path: Path) -> None:
    """Make a rename or a new entry in `path` survive a power cut."""
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def put_file(source: BinaryIO | Path | bytes, extension: str, *,
             expected_checksum: str | None = None) -> PutResult:
    """Store `source` (an open binary file, a path, or bytes) under its MD5; see the module doc."""
    extension = validate_extension(extension.lower())
    if expected_checksum is not None:
        validate_checksum(expected_checksum)
    temp_dir = temp_root()
    temp_dir.mkdir(parents=True, exist_ok=True)
    descriptor, temp_name = tempfile.mkstemp(dir=temp_dir, prefix="put-", suffix=".part")
    temp_path = Path(temp_name)
    try:
        md5, sha256, size = _copy_hashing(source, descriptor)
        checksum = md5.hexdigest()
        if expected_checksum is not None and checksum != expected_checksum:
            raise ChecksumMismatchError(
                f"the bytes have MD5 {checksum}, not the expected {expected_checksum}")
        result = _move_into_place(temp_path, checksum, extension, size, sha256.hexdigest())
    finally:
        temp_path.unlink(missing_ok=True)
    return result


def _copy_hashing(source: BinaryIO | Path | bytes, descriptor: int):
    md5, sha256, size = hashlib.md5(), hashlib.sha256(), 0
    if isinstance(source, bytes):
        handle: BinaryIO = io.BytesIO(source)
    elif isinstance(source, Path):
        handle = open(source, "rb")
    else:
        handle = source
    try:
        with os.fdopen(descriptor, "wb") as target:
            while chunk := handle.read(CHUNK_SIZE):
                md5.update(chunk)
                sha256.update(chunk)
                target.write(chunk)
                size += len(chunk)
            target.flush()
            os.fsync(target.fileno())
    finally:
        if handle is not source:
            handle.close()
    return md5, sha256, size


def _move_into_place(temp_path: Path, checksum: str, extension: str, size: int,
                     sha256: str) -> PutResult:
    final_path = storage_path(checksum, extension)
    known = StoredFile.objects.filter(checksum=checksum).first()
    if known is not None and known.sha256 != sha256:
        raise ChecksumCollisionError(
            f"two different files have MD5 {checksum}; the second one was not stored")
    created = False
    if not final_path.exists() or final_path.stat().st_size != size:
        final_path.parent.mkdir(parents=True, exist_ok=True)
        os.replace(temp_path, final_path)
        fsync_directory(final_path.parent)
        created = True
    if known is None:
        StoredFile.objects.get_or_create(
            checksum=checksum,
            defaults={"extension": extension, "size": size, "sha256": sha256},
        )
    return PutResult(checksum, extension, size, sha256, created)


def file_exists(checksum: str, extension: str) -> bool:
    return storage_path(checksum, extension).is_file()


def open_file(checksum: str, extension: str) -> BinaryIO:
    return open(storage_path(checksum, extension), "rb")


def present_checksums(checksums: set[str] | list[str]) -> set[str]:
    """Which of these files are present on this server (device state, in the default database)."""
    wanted = {checksum for checksum in checksums if checksum}
    if not wanted:
        return set()
    found: set[str] = set()
    ordered = sorted(wanted)
    # Chunked to stay under every database's limit on query parameters.
    for start in range(0, len(ordered), 900):
        found.update(
            StoredFile.objects.filter(checksum__in=ordered[start:start + 900])
            .values_list("checksum", flat=True)
        )
    return found
