"""What every transfer shares, whatever the source (a drive or a peer on the LAN):

- the shapes of results and per-file failures;
- the version rule for a database offered by a source (INTERFACE.md "version"): a number this
  server already has, current or not, or one older than the current one, is not newer;
- `install_database`: check a database copied or downloaded into the temp area, then install it
  as a new version (moved into place; nothing served changes until the final rename);
- `copy_files`: put a list of files into storage through a source's `FileStore`, skipping files
  already present, verifying every MD5, reporting (not stopping at) a missing or damaged file,
  and stopping at once when the source or the disk fails, so that a re-run resumes. Files are
  stored in batches (storage.batch): one filesystem sync and one registry write per batch.

A source implements `FileStore` (channels.transfer.disk, channels.transfer.network):

    class DriveFiles:
        label = "drive /media/usb"
        def store(self, ref: FileRef, on_bytes: Callable[[int], None],
                  batch: StoreBatch) -> int: ...
"""

from __future__ import annotations

import errno
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from django.conf import settings

from channels.checks import OlderSchemaError, check_channel_database
from channels.models import Channel, ChannelVersion
from channels.normalise import normalised_copy
from channels.transfer.content_checks import refuse_unsafe_content
from channels.transfer.drives import free_space
from channels.transfer.errors import (
    DestinationWriteError,
    DiskFullError,
    NotEnoughSpaceError,
    SourceReadError,
    VersionNotNewerError,
)
from channels.transfer.selection import FileRef
from channels.versions import install_channel_version
from kolibri_like.crashpoints import crash_point
from storage.batch import StoreBatch
from storage.files import ChecksumMismatchError, present_checksums

# Room kept free beyond the files themselves (the registry's writes, the temp file of the copy).
SPACE_MARGIN = 16 * 1024 * 1024


class ProgressSink(Protocol):
    def update(self, stage: str, done: int, total: int) -> None: ...


class _NoProgress:
    def update(self, stage: str, done: int, total: int) -> None:
        return None


NO_PROGRESS: ProgressSink = _NoProgress()


@dataclass(frozen=True)
class FileFailure:
    checksum: str
    extension: str
    reason: str

    @property
    def name(self) -> str:
        return f"{self.checksum}.{self.extension}" if self.extension else self.checksum


class FileUnavailableError(Exception):
    """One file cannot be had from the source (missing, damaged): skip it, report it."""


@dataclass(frozen=True)
class ChannelImportResult:
    channel_id: str
    name: str
    version: int
    # False when that version was already the current one (nothing to do).
    installed: bool
    previous_version: int | None
    source: str


@dataclass
class ContentImportResult:
    channel_id: str
    version: int
    source: str
    files_total: int = 0
    already_present: int = 0
    copied: int = 0
    bytes_total: int = 0
    bytes_copied: int = 0
    # Files of nodes that a partial drive's manifest says it does not hold.
    not_on_source: int = 0
    failures: list[FileFailure] = field(default_factory=list)
    import_id: int | None = None

    @property
    def files_done(self) -> int:
        return self.already_present + self.copied + len(self.failures)


class FileStore(Protocol):
    label: str

    def store(self, ref: FileRef, on_bytes: Callable[[int], None], batch: StoreBatch) -> int:
        """Stage the file in `batch`, verified; return the bytes read from the source.

        Raise FileUnavailableError for this file only, SourceReadError if the source is gone.
        """
        ...


class CountingReader:
    """A source stream that reports bytes read and turns read errors into SourceReadError:
    a pulled drive raises EIO or ENODEV here, which must stop the import (exit 6), not be
    mistaken for an error of our own disk."""

    def __init__(self, raw: BinaryIO, label: str, on_bytes: Callable[[int], None]) -> None:
        self.raw, self.label, self.on_bytes = raw, label, on_bytes

    def read(self, size: int = -1) -> bytes:
        try:
            chunk = self.raw.read(size)
        except OSError as error:
            raise SourceReadError(self.label, error) from error
        if chunk:
            self.on_bytes(len(chunk))
        return chunk


def installed_versions(channel_id: str) -> tuple[int | None, list[int]]:
    """(current version or None, every version number kept here)."""
    channel = Channel.objects.filter(id=channel_id).first()
    current = channel.version if channel is not None and channel.version else None
    kept = sorted(ChannelVersion.objects.filter(channel_id=channel_id)
                  .values_list("number", flat=True))
    return current, kept


def is_newer(channel_id: str, offered: int) -> bool:
    current, kept = installed_versions(channel_id)
    return offered not in kept and offered != current and (current is None or offered > current)


def check_version_offered(channel_id: str, offered: int) -> bool:
    """True to install, False if it is already the current version; VersionNotNewerError if
    it is a number we have (not current) or older than the current one."""
    current, kept = installed_versions(channel_id)
    channel = Channel.objects.filter(id=channel_id).first()
    if offered == current and channel is not None and channel.state == Channel.State.AVAILABLE:
        return False
    if not is_newer(channel_id, offered):
        raise VersionNotNewerError(channel_id, offered, current, kept)
    return True


def install_database(candidate: Path, channel_id: str, *, source_label: str,
                     created_by: Any = None, full_check: bool = False) -> ChannelImportResult:
    """Check `candidate` (in the temp area) and install it as a new version, moved into place.

    The caller removes `candidate` if it is still there afterwards (not installed). A candidate
    in an older content schema is left as it is: a normalised copy of it is installed."""
    try:
        info = check_channel_database(candidate, expected_channel_id=channel_id, full=full_check)
    except OlderSchemaError as older:
        with normalised_copy(candidate, older.schema) as copy:
            return install_database(copy, channel_id, source_label=source_label,
                                    created_by=created_by, full_check=full_check)
    previous, _kept = installed_versions(channel_id)
    if not check_version_offered(channel_id, info.version):
        return ChannelImportResult(channel_id, info.name, info.version, False, previous,
                                   source_label)
    install_channel_version(candidate, channel_id, source_label=source_label,
                            created_by=created_by, move=True, checked=info)
    crash_point("import.after_switch")
    return ChannelImportResult(channel_id, info.name, info.version, True, previous, source_label)


def check_free_space(where: Path, needed: int) -> None:
    free = free_space(where)
    if needed and needed + SPACE_MARGIN > free:
        raise NotEnoughSpaceError(where, needed + SPACE_MARGIN, free)


def local_write_error(error: OSError) -> Exception:
    """An OSError while writing into our own content folder, as the error to report."""
    where = Path(settings.CONTENT_DIR)
    if error.errno == errno.ENOSPC:
        return DiskFullError(where)
    return DestinationWriteError(where, error)


def copy_files(result: ContentImportResult, files: list[FileRef], source: FileStore, *,
               progress: ProgressSink, record: Callable[[ContentImportResult], None],
               extra_space: int = 0) -> ContentImportResult:
    """Copy `files` into storage from `source`; see the module doc. Fills and returns `result`.

    1. Leave out files already present (device state), and check the free space for the rest.
    2. For each file, in order: stage it through the source, verified; a per-file problem is
       recorded in `result.failures` and the loop goes on. A full batch is stored and
       registered (`StoreBatch.commit`); only then do its files count as copied.
    3. Anything else (the source gone, the disk full, Ctrl-C, a cancel raised by `progress`)
       propagates at once, after the files staged so far (whole and verified) are stored:
       every file stored is whole and kept, so a re-run resumes.
    """
    present = present_checksums([ref.checksum for ref in files])
    to_copy = [ref for ref in files if ref.checksum not in present]
    result.files_total += len(files)
    result.already_present += len(files) - len(to_copy)
    result.bytes_total = sum(ref.size or 0 for ref in to_copy)
    check_free_space(Path(settings.CONTENT_DIR), result.bytes_total + extra_space)
    progress.update("files", result.files_done, result.files_total)
    bytes_done = 0

    def on_bytes(count: int) -> None:
        nonlocal bytes_done
        bytes_done += count
        progress.update("bytes", bytes_done, max(result.bytes_total, bytes_done))

    batch = StoreBatch()
    try:
        for ref in to_copy:
            try:
                result.bytes_copied += source.store(ref, on_bytes, batch)
                refuse_unsafe_content(ref, result.channel_id, batch)
            except FileUnavailableError as problem:
                result.failures.append(FileFailure(ref.checksum, ref.extension, str(problem)))
            except ChecksumMismatchError as problem:
                result.failures.append(FileFailure(ref.checksum, ref.extension, str(problem)))
            except OSError as error:
                raise local_write_error(error) from error
            # Progress counts staged files too: a batch of small files is stored in one go.
            progress.update("files", result.files_done + batch.staged_count,
                            result.files_total)
            record(result)
            if batch.is_full:
                _commit_batch(batch, result, progress, record)
        _commit_batch(batch, result, progress, record)
    except BaseException:
        try:
            _commit_batch(batch, result, progress, record)
        except Exception:  # noqa: BLE001 - the first error is the one to report
            batch.discard()
        raise
    progress.update("bytes", result.bytes_total, result.bytes_total)
    return result


def _commit_batch(batch: StoreBatch, result: ContentImportResult, progress: ProgressSink,
                  record: Callable[[ContentImportResult], None]) -> None:
    try:
        outcome = batch.commit()
    except OSError as error:
        raise local_write_error(error) from error
    for staged, problem in outcome.collisions:
        result.failures.append(FileFailure(staged.checksum, staged.extension, problem))
    result.copied += len(outcome.stored)
    progress.update("files", result.files_done, result.files_total)
    record(result)
    for _stored in outcome.stored:
        crash_point("import.file_stored")
