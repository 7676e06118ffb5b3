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
import stat
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


class StoredFileNotFoundError(StorageError):
    exit_code = 3


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
    staged = stage_file(source, extension, expected_checksum=expected_checksum, durable=True)
    try:
        result = _move_into_place(staged.temp_path, staged.checksum, staged.extension,
                                  staged.size, staged.sha256)
    finally:
        staged.temp_path.unlink(missing_ok=True)
    return result


@dataclass(frozen=True)
class StagedFile:
    """A whole, hashed copy in the temp area, not yet in the store."""

    temp_path: Path
    checksum: str
    extension: str
    size: int
    sha256: str


def stage_file(source: BinaryIO | Path | bytes, extension: str, *,
               expected_checksum: str | None, durable: bool) -> StagedFile:
    """Copy `source` into a temp file, hashing it; fsynced if `durable` (else the caller syncs
    the filesystem before relying on it). The temp file is removed if anything fails."""
    extension = validate_extension(extension.lower())
    if expected_checksum is not None:
        validate_checksum(expected_checksum)
    temp_dir = temp_root()
    temp_dir.mkdir(parents=True, exist_ok=True)
    descriptor, temp_name = tempfile.mkstemp(dir=temp_dir, prefix="put-", suffix=".part")
    temp_path = Path(temp_name)
    try:
        checksum, sha256, size = _copy_hashing(source, descriptor, durable=durable)
        if expected_checksum is not None and checksum != expected_checksum:
            raise ChecksumMismatchError(
                f"the bytes have MD5 {checksum}, not the expected {expected_checksum}")
    except BaseException:
        temp_path.unlink(missing_ok=True)
        raise
    return StagedFile(temp_path, checksum, extension, size, sha256)


def _copy_hashing(source: BinaryIO | Path | bytes, descriptor: int, *,
                  durable: bool) -> tuple[str, str, int]:
    """Copy `source` into the temp file behind `descriptor`, hashing as it goes, then fsync
    if `durable`.

    The descriptor is wrapped first, so it is closed even when opening `source` fails.
    """
    md5, sha256, size = hashlib.md5(), hashlib.sha256(), 0
    with os.fdopen(descriptor, "wb") as target:
        if isinstance(source, bytes):
            handle: BinaryIO = io.BytesIO(source)
        elif isinstance(source, Path):
            handle = open(source, "rb")
        else:
            handle = source
        try:
            while chunk := handle.read(CHUNK_SIZE):
                md5.update(chunk)
                sha256.update(chunk)
                target.write(chunk)
                size += len(chunk)
            if durable:
                target.flush()
                os.fsync(target.fileno())
        finally:
            if handle is not source:
                handle.close()
    return md5.hexdigest(), sha256.hexdigest(), size


def _hash_file(path: Path) -> tuple[str, str]:
    """(MD5, SHA-256) of a file already in the store."""
    md5, sha256 = hashlib.md5(), hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK_SIZE):
            md5.update(chunk)
            sha256.update(chunk)
    return md5.hexdigest(), sha256.hexdigest()


def _move_into_place(temp_path: Path, checksum: str, extension: str, size: int,
                     sha256: str) -> PutResult:
    """Rename into place and register, holding the store's write lock shared: the collector
    deletes under the exclusive lock, so it never removes a file between our check that it is
    there and the row we rely on."""
    from storage.gc import store_write_lock  # the collector imports this module

    with store_write_lock(shared=True):
        return _move_into_place_locked(temp_path, checksum, extension, size, sha256)


def _move_into_place_locked(temp_path: Path, checksum: str, extension: str, size: int,
                            sha256: str) -> PutResult:
    staged = StagedFile(temp_path, checksum, extension, size, sha256)
    known = StoredFile.objects.filter(checksum=checksum).values_list("sha256", flat=True).first()
    created = place_staged(staged, known, durable=True)
    if known is None:
        StoredFile.objects.get_or_create(
            checksum=checksum,
            defaults={"extension": extension, "size": size, "sha256": sha256},
        )
    return PutResult(checksum, extension, size, sha256, created)


def place_staged(staged: StagedFile, known_sha256: str | None, *, durable: bool) -> bool:
    """Rename a staged file to its place in the store unless a whole copy is there already
    (then touch that copy); True if renamed. The caller holds the store's write lock shared
    and registers the file afterwards. `known_sha256`: the registry's SHA-256 for this MD5,
    or None if it is not registered. Without `durable` the caller syncs the filesystem."""
    checksum, size, sha256 = staged.checksum, staged.size, staged.sha256
    final_path = storage_path(checksum, staged.extension)
    if known_sha256 is not None and known_sha256 != sha256:
        raise ChecksumCollisionError(
            f"two different files have MD5 {checksum}; the second one was not stored")
    if known_sha256 is None and final_path.is_file() and final_path.stat().st_size == size:
        # On disk but not in the registry (copied in by hand, or a crash between the rename
        # and the insert): check its bytes once instead of registering our hashes for them.
        present_md5, present_sha256 = _hash_file(final_path)
        if present_md5 == checksum and present_sha256 != sha256:
            raise ChecksumCollisionError(
                f"two different files have MD5 {checksum}; the second one was not stored")
        needs_write = present_md5 != checksum
    else:
        needs_write = not final_path.is_file() or final_path.stat().st_size != size
    if needs_write:
        final_path.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staged.temp_path, final_path)
        if durable:
            fsync_directory(final_path.parent)
        return True
    # Re-used: it must look new to the collector, whose grace period spares young files.
    os.utime(final_path)
    return False


def file_exists(checksum: str, extension: str) -> bool:
    return storage_path(checksum, extension).is_file()


def open_file(checksum: str, extension: str) -> BinaryIO:
    return open(storage_path(checksum, extension), "rb")


@dataclass(frozen=True)
class OpenedStoredFile:
    """A stored file opened for reading, with its size taken from the open descriptor."""

    file: BinaryIO
    size: int


def open_stored_file(checksum: str, extension: str) -> OpenedStoredFile:
    """Open a stored file for serving; StoredFileNotFoundError if it is not a regular file there.

    The name is validated before any path is built. The last component is opened without
    following a symlink, and the size comes from `fstat` of the same descriptor, so the
    length we announce is the length of the bytes we read, even if the entry is replaced
    meanwhile (a rename swaps the entry, not the open file).
    """
    path = storage_path(checksum, extension)
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    try:
        descriptor = os.open(path, flags)
    except OSError as error:
        raise StoredFileNotFoundError(f"{checksum}.{extension} is not in the store") from error
    try:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):
            raise StoredFileNotFoundError(f"{checksum}.{extension} is not a regular file")
        handle = os.fdopen(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise
    return OpenedStoredFile(handle, status.st_size)


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
