"""Channels on a drive or a folder in Kolibri's layout (`KOLIBRI_DATA/content/...`): list them,
import a channel's database and its files, export to it (channels.transfer.export writes).

Everything read from a drive goes through `open_drive_file` and `CountingReader`, so a drive
pulled out mid-copy (EIO, ENODEV) is reported as such (exit 6) and the files stored before it
stay; a re-run copies the rest.

    list_drive_channels(Path("/media/usb"))                     # what is on it, what is newer
    import_channel_from_disk(channel_id, Path("/media/usb"))    # the database, a new version
    import_content_from_disk(channel_id, Path("/media/usb"), node_ids=["..."])
    export_content_to_disk(channel_id, Path("/media/usb"))      # files, manifest, database last
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, cast

from channels.checks import check_channel_database
from channels.errors import InvalidChannelDatabaseError
from channels.transfer import export
from channels.transfer.base import (
    NO_PROGRESS,
    ChannelImportResult,
    ContentImportResult,
    CountingReader,
    FileUnavailableError,
    ProgressSink,
    check_free_space,
    install_database,
    installed_versions,
    is_newer,
    local_write_error,
)
from channels.transfer.drives import DriveLayout, drive_layout
from channels.transfer.errors import (
    BadTransferArgumentError,
    ChannelNotOnSourceError,
    InvalidManifestError,
    SourceReadError,
)
from channels.transfer.imports import run_content_import
from channels.transfer.locking import import_lock
from channels.transfer.manifest import included_roots, read_manifest
from channels.transfer.selection import FileRef
from kolibri_like.crashpoints import crash_point
from routers.ids import is_valid_channel_id
from storage.batch import StoreBatch
from storage.files import CHUNK_SIZE
from storage.paths import temp_root

ExportResult = export.ExportResult


def open_drive_file(path: Path) -> BinaryIO:
    """Open a file on a drive for reading. Every read from a drive goes through here, which is
    where tests put a file object that fails like a pulled-out drive."""
    return open(path, "rb")


@dataclass(frozen=True)
class DriveChannel:
    id: str
    name: str
    description: str
    version: int
    total_size: int
    node_count: int
    installed_version: int | None
    is_newer: bool
    thumbnail: str = ""
    # The drive's manifest says it holds the files of only some nodes.
    partial: bool = False
    # Why the database cannot be imported ("" if it can).
    problem: str = ""


def list_drive_channels(drive: Path | str) -> list[DriveChannel]:
    """The channels on the drive, each database checked (quick_check) before it is read."""
    layout = drive_layout(drive)
    try:
        entries = read_manifest(layout.manifest_path)
    except InvalidManifestError:
        entries = []  # listing still works; an import reports the manifest
    found: list[DriveChannel] = []
    paths = sorted(layout.databases_dir.glob("*.sqlite3")) if layout.databases_dir.is_dir() \
        else []
    for path in paths:
        channel_id = path.name.removesuffix(".sqlite3")
        if not is_valid_channel_id(channel_id):
            continue
        installed = installed_versions(channel_id)[0]
        try:
            info = check_channel_database(path, expected_channel_id=channel_id,
                                          accept_older=True)
        except InvalidChannelDatabaseError as error:
            found.append(DriveChannel(channel_id, "", "", 0, 0, 0, installed, False,
                                      problem=error.reason))
            continue
        roots = included_roots(entries, channel_id, info.version)
        found.append(DriveChannel(
            id=channel_id, name=info.name, description=info.description,
            version=info.version, total_size=info.total_size, node_count=info.node_count,
            installed_version=installed, is_newer=is_newer(channel_id, info.version),
            thumbnail=info.thumbnail, partial=roots is not None and info.root_id not in roots))
    return sorted(found, key=lambda item: (item.name.lower(), item.id))


def import_channel_from_disk(channel_id: str, drive: Path | str, *, full_check: bool = False,
                             progress: ProgressSink | None = None,
                             created_by: Any = None) -> ChannelImportResult:
    """Copy the channel's database from the drive into the temp area, check it there (the
    drive could change under us), and install it as a new version if it is newer."""
    _check_channel_id(channel_id)
    layout = drive_layout(drive)
    source = layout.database_path(channel_id)
    if not source.is_file():
        raise ChannelNotOnSourceError(channel_id, layout.label(),
                                      f"`listchannels disk {layout.root}` shows what it holds")
    with import_lock(channel_id):
        temp_dir = temp_root()
        temp_dir.mkdir(parents=True, exist_ok=True)
        candidate = temp_dir / f"disk-{channel_id}-{uuid.uuid4().hex[:8]}.sqlite3"
        try:
            _copy_database(source, candidate, layout, progress or NO_PROGRESS)
            crash_point("import.database_copied")
            try:
                return install_database(candidate, channel_id, source_label=layout.label(),
                                        created_by=created_by, full_check=full_check)
            except InvalidChannelDatabaseError as error:
                # Name the drive's file, the one the user can look at, not our temp copy.
                raise InvalidChannelDatabaseError(source, error.reason) from None
        finally:
            candidate.unlink(missing_ok=True)
            Path(f"{candidate}-journal").unlink(missing_ok=True)


def _copy_database(source: Path, target: Path, layout: DriveLayout,
                   progress: ProgressSink) -> None:
    try:
        size = source.stat().st_size
    except OSError as error:
        raise SourceReadError(layout.label(), error) from error
    check_free_space(target.parent, size)
    done = 0

    def on_bytes(count: int) -> None:
        nonlocal done
        done += count
        progress.update("database", done, max(size, done))

    try:
        handle = open_drive_file(source)
    except OSError as error:
        raise SourceReadError(layout.label(), error) from error
    with handle:
        reader = CountingReader(handle, layout.label(), on_bytes)
        try:
            with open(target, "wb") as writer:
                while chunk := reader.read(CHUNK_SIZE):
                    writer.write(chunk)
                writer.flush()
                os.fsync(writer.fileno())
        except OSError as error:
            raise local_write_error(error) from error
    progress.update("database", done, done)


class DriveFiles:
    """The `FileStore` of a drive: files found by name (case-insensitively as a fallback),
    streamed into storage with their MD5 checked while copying."""

    def __init__(self, layout: DriveLayout) -> None:
        self.layout = layout
        self.label = layout.label()
        self._listings: dict[Path, dict[str, str]] = {}
        self._storage_dir = str(layout.storage_dir)

    def store(self, ref: FileRef, on_bytes: Callable[[int], None], batch: StoreBatch) -> int:
        try:
            # Opened at its exact name first: a stat before the open costs as much as the open.
            handle = open_drive_file(Path(self._storage_dir, ref.relpath))
        except FileNotFoundError:
            handle = self._open_found(ref)
        except IsADirectoryError:
            raise FileUnavailableError("not on the drive") from None
        except OSError as error:
            raise SourceReadError(self.label, error) from error
        counted = 0

        def count(size: int) -> None:
            nonlocal counted
            counted += size
            on_bytes(size)
            crash_point("import.mid_file")

        with handle:
            batch.stage(cast(BinaryIO, CountingReader(handle, self.label, count)),
                        ref.extension, expected_checksum=ref.checksum)
        return counted

    def _open_found(self, ref: FileRef) -> BinaryIO:
        """The file under another case of its name (FAT drives from other systems)."""
        path = self._find(ref)
        if path is None:
            raise FileUnavailableError("not on the drive")
        try:
            return open_drive_file(path)
        except FileNotFoundError:
            raise FileUnavailableError("not on the drive") from None
        except OSError as error:
            raise SourceReadError(self.label, error) from error

    def _find(self, ref: FileRef) -> Path | None:
        folder = self.layout.storage_dir
        for part in ref.relpath.split("/"):
            actual = self._listing(folder).get(part.lower())
            if actual is None:
                return None
            folder = folder / actual
        return folder if folder.is_file() else None

    def _listing(self, folder: Path) -> dict[str, str]:
        """Lower-cased name -> name in `folder`, read once (FAT drives from other systems)."""
        if folder not in self._listings:
            try:
                self._listings[folder] = {name.lower(): name for name in os.listdir(folder)}
            except OSError:
                self._listings[folder] = {}
        return self._listings[folder]


def import_content_from_disk(channel_id: str, drive: Path | str, *,
                             node_ids: list[str] | None = None,
                             exclude_node_ids: list[str] | None = None,
                             progress: ProgressSink | None = None) -> ContentImportResult:
    """Copy the files of the installed channel (or of the chosen subtrees) from the drive.

    Only the nodes a partial drive's manifest includes are expected there; a file missing or
    damaged on the drive is skipped and reported (FilesFailedError at the end, exit 4).
    """
    _check_channel_id(channel_id)
    layout = drive_layout(drive)
    entries = read_manifest(layout.manifest_path)
    return run_content_import(
        channel_id, kind="disk", source=str(layout.root), store=DriveFiles(layout),
        import_hint=f"kolibri-like importchannel disk {channel_id} {layout.root}",
        node_ids=node_ids, exclude_node_ids=exclude_node_ids,
        roots_on_source=lambda version: included_roots(entries, channel_id, version),
        progress=progress)


def export_channel_to_disk(channel_id: str, drive: Path | str, *,
                           progress: ProgressSink | None = None) -> export.ExportResult:
    """Write the channel's current database to the drive (no files)."""
    _check_channel_id(channel_id)
    return export.export_to_drive(channel_id, Path(drive), with_files=False,
                                  progress=progress or NO_PROGRESS)


def export_content_to_disk(channel_id: str, drive: Path | str, *,
                           node_ids: list[str] | None = None,
                           exclude_node_ids: list[str] | None = None,
                           progress: ProgressSink | None = None) -> export.ExportResult:
    """Write the files of the channel (or of the chosen subtrees), the manifest, and then the
    database, last, so that an interrupted export never shows a half channel."""
    _check_channel_id(channel_id)
    return export.export_to_drive(channel_id, Path(drive), with_files=True, node_ids=node_ids,
                                  exclude_node_ids=exclude_node_ids,
                                  progress=progress or NO_PROGRESS)


def _check_channel_id(channel_id: str) -> None:
    if not is_valid_channel_id(channel_id):
        raise BadTransferArgumentError(
            f"not a channel id (32 lowercase hex characters): {channel_id!r}")


__all__ = ["DriveChannel", "ExportResult", "list_drive_channels", "import_channel_from_disk",
           "import_content_from_disk", "export_channel_to_disk", "export_content_to_disk",
           "open_drive_file"]
