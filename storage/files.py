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
import itertools
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from django.db import connections

from storage.models import StoredFile
from storage.paths import (
    storage_path,
    storage_root,
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
        result = _move_into_place(staged)
    finally:
        _unlink_quietly(staged.temp_path)
    return result


@dataclass(frozen=True)
class StagedFile:
    """A whole, hashed copy in the temp area (at `temp_path`), not yet in the store."""

    temp_path: str
    checksum: str
    extension: str
    size: int
    sha256: str


def stage_file(source: BinaryIO | Path | bytes, extension: str, *,
               expected_checksum: str | None, durable: bool,
               temp_dir: str | None = None) -> StagedFile:
    """Copy `source` into a temp file, hashing it; fsynced if `durable` (else the caller syncs
    the filesystem before relying on it). The temp file is removed if anything fails.
    `temp_dir`: the temp area, already made (a batch passes it to save a mkdir per file)."""
    extension = validate_extension(extension.lower())
    if expected_checksum is not None:
        validate_checksum(expected_checksum)
    if temp_dir is None:
        temp_dir = str(temp_root())
        os.makedirs(temp_dir, exist_ok=True)
    descriptor, temp_path = _create_temp_file(temp_dir)
    try:
        checksum, sha256, size = _copy_hashing(source, descriptor, durable=durable)
        if expected_checksum is not None and checksum != expected_checksum:
            raise ChecksumMismatchError(
                f"the bytes have MD5 {checksum}, not the expected {expected_checksum}")
    except BaseException:
        _unlink_quietly(temp_path)
        raise
    return StagedFile(temp_path, checksum, extension, size, sha256)


_TEMP_FLAGS = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | \
    getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
_temp_numbers = itertools.count()


def _create_temp_file(temp_dir: str) -> tuple[int, str]:
    """A new private temp file (as mkstemp makes), named by process and a counter: an import
    creates tens of thousands, and mkstemp's random names cost more than the file."""
    for _attempt in range(100):
        path = os.path.join(temp_dir, f"put-{os.getpid()}-{next(_temp_numbers)}.part")
        try:
            return os.open(path, _TEMP_FLAGS, 0o600), path
        except FileExistsError:
            continue  # left by an earlier process with the same id: take the next number
    return tempfile.mkstemp(dir=temp_dir, prefix="put-", suffix=".part")


def _unlink_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


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


def _move_into_place(staged: StagedFile) -> PutResult:
    """Rename into place and register, holding the store's write lock shared: the collector
    deletes under the exclusive lock, so it never removes a file between our check that it is
    there and the row we rely on."""
    from storage.gc import store_write_lock  # the collector imports this module

    with store_write_lock(shared=True):
        known = StoredFile.objects.filter(checksum=staged.checksum) \
            .values_list("sha256", flat=True).first()
        created = place_staged(staged, known, durable=True)
        if known is None:
            StoredFile.objects.get_or_create(
                checksum=staged.checksum,
                defaults={"extension": staged.extension, "size": staged.size,
                          "sha256": staged.sha256},
            )
    return PutResult(staged.checksum, staged.extension, staged.size, staged.sha256, created)


def place_staged(staged: StagedFile, known_sha256: str | None, *, durable: bool,
                 root: str | None = None) -> bool:
    """Rename a staged file to its place in the store unless a whole copy is there already
    (then touch that copy); True if renamed. The caller holds the store's write lock shared
    and registers the file afterwards. `known_sha256`: the registry's SHA-256 for this MD5,
    or None if it is not registered. Without `durable` the caller syncs the filesystem.
    `root`: the store's folder (a batch passes it once)."""
    checksum, size, sha256 = staged.checksum, staged.size, staged.sha256
    if known_sha256 is not None and known_sha256 != sha256:
        raise ChecksumCollisionError(
            f"two different files have MD5 {checksum}; the second one was not stored")
    # The staged checksum is our own hexdigest and its extension was validated when staged.
    folder = os.path.join(str(storage_root()) if root is None else root,
                          checksum[0], checksum[1])
    final_path = os.path.join(folder, f"{checksum}.{staged.extension}")
    try:
        present = os.stat(final_path)
    except FileNotFoundError:
        present = None
    if present is not None and stat.S_ISREG(present.st_mode) and present.st_size == size:
        needs_write = False
        if known_sha256 is None:
            # On disk but not in the registry (copied in by hand, or a crash between the
            # rename and the insert): check its bytes once instead of registering our hashes.
            present_md5, present_sha256 = _hash_file(Path(final_path))
            if present_md5 == checksum and present_sha256 != sha256:
                raise ChecksumCollisionError(
                    f"two different files have MD5 {checksum}; the second one was not stored")
            needs_write = present_md5 != checksum
    else:
        needs_write = True
    if not needs_write:
        # Re-used: it must look new to the collector, whose grace period spares young files.
        os.utime(final_path)
        return False
    try:
        os.replace(staged.temp_path, final_path)
    except FileNotFoundError:
        os.makedirs(folder, exist_ok=True)
        os.replace(staged.temp_path, final_path)
    if durable:
        fsync_directory(Path(folder))
    return True


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
    wanted = sorted({checksum for checksum in checksums if checksum})
    found: set[str] = set()
    if not wanted:
        return found
    default = connections["default"]
    table = default.ops.quote_name(StoredFile._meta.db_table)
    # Plain SQL in chunks under every database's limit on query parameters: the ORM's lookup
    # costs more than the query for a channel of 50,000 files.
    with default.cursor() as cursor:
        for start in range(0, len(wanted), 900):
            chunk = wanted[start:start + 900]
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(f"SELECT checksum FROM {table} WHERE checksum IN ({marks})", chunk)
            found.update(row[0] for row in cursor.fetchall())
    return found
