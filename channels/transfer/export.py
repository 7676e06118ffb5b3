"""Export a channel to a drive in Kolibri's layout: files, then manifest.json, then the
database, last, so that an interrupted export never shows a half channel.

1. Plan before writing anything: the nodes chosen whose files are all on this server, the
   files not yet on the drive with the right size, and the database. A file too large for a
   FAT32 drive, or too little free space, stops the export here with nothing copied.
2. Copy each file through `<name>.partial` on the drive: hashed while read from our store,
   synced, read back and hashed again, then renamed into place. A file that could not be
   exported takes its nodes out of this export (step 3 never claims a file not on the drive).
3. Merge this export's nodes into the drive's manifest (other channels and versions kept).
4. Copy the database the same way, from a handle opened at the start: a revert meanwhile does
   not change which version is exported.

A full drive (exit 5), a drive pulled out or a failing disk on either side (exit 6) stops the
export at once: the `.partial` being written is removed, files already renamed into place are
whole and a re-run skips them; the manifest and the database are only written after the files.

No hard links, no reliance on case, every handle closed on return: the drive can be removed.

    result = export_to_drive(channel_id, Path("/media/usb"), with_files=True)
"""

from __future__ import annotations

import errno
import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Protocol

from django.utils.translation import gettext

from channels.errors import ChannelNotFoundError
from channels.models import Channel
from channels.transfer.base import FileFailure, ProgressSink
from channels.transfer.drives import (
    FAT_MAX_FILE_SIZE,
    DriveLayout,
    drive_layout,
    free_space,
    is_fat,
)
from channels.transfer.errors import (
    DestinationWriteError,
    DiskFullError,
    FilesFailedError,
    FileTooLargeForDriveError,
    NotEnoughSpaceError,
    TransferError,
)
from channels.transfer.locking import drive_lock
from channels.transfer.manifest import (
    ManifestEntry,
    merge_entry,
    read_manifest,
    write_manifest,
)
from channels.transfer.selection import (
    FileRef,
    covering_roots,
    distinct_files,
    parse_node_ids,
    read_node_files,
    read_tree,
    select_nodes,
    subtrees_of,
)
from channels.versions import version_database_path
from kolibri_like.crashpoints import crash_point
from routers.registry import channel_database_path
from storage.files import CHUNK_SIZE, fsync_directory, present_checksums
from storage.paths import storage_path


@dataclass
class ExportResult:
    channel_id: str
    version: int
    drive: Path
    files_total: int = 0
    already_on_drive: int = 0
    copied: int = 0
    bytes_total: int = 0
    bytes_copied: int = 0
    # Chosen nodes left out because their files are not (all) on this server.
    nodes_not_here: int = 0
    failures: list[FileFailure] = field(default_factory=list)
    database: Path | None = None


@dataclass
class _Plan:
    to_copy: list[tuple[FileRef, Path, int]] = field(default_factory=list)  # ref, source, size
    exported_nodes: list[str] = field(default_factory=list)
    checksums_of: dict[str, set[str]] = field(default_factory=dict)  # node id -> its files


class _StoredCopyDamagedError(Exception):
    """Our own stored copy does not hash to its name (verifystorage --repair fixes that)."""


class StoreReadError(TransferError):
    """This server's own storage failed to read (a failing disk): the export stops."""

    exit_code = 6
    http_status = 500

    def __init__(self, path: Path, error: OSError) -> None:
        super().__init__(gettext("cannot read %(path)s from this server's storage (%(error)s); "
                                 "check its disk (verifystorage), then run the export again to "
                                 "resume") % {"path": path, "error": error.strerror})


class _StoreReader:
    """Reads of our stored copy, whose errors must not be taken for the drive's."""

    def __init__(self, raw: BinaryIO, path: Path) -> None:
        self.raw, self.path = raw, path

    def read(self, size: int) -> bytes:
        try:
            return self.raw.read(size)
        except OSError as error:
            raise StoreReadError(self.path, error) from error


def export_to_drive(channel_id: str, drive: Path, *, with_files: bool,
                    node_ids: list[str] | None = None, exclude_node_ids: list[str] | None = None,
                    progress: ProgressSink) -> ExportResult:
    """See the module doc. Raises FilesFailedError at the end if some files could not be
    exported (the rest, the manifest and the database are written)."""
    node_ids, exclude_node_ids = parse_node_ids(node_ids), parse_node_ids(exclude_node_ids)
    channel = Channel.objects.servable().filter(id=channel_id).first()
    if channel is None:
        raise ChannelNotFoundError(channel_id)
    layout = drive_layout(drive, create=True)
    result = ExportResult(channel_id, channel.version, layout.root)
    database = version_database_path(channel_id, channel.version)
    if not database.is_file():
        database = channel_database_path(channel_id)
    with drive_lock(layout.root), open(database, "rb") as database_handle:
        database_size = os.fstat(database_handle.fileno()).st_size
        plan = _plan(database, channel_id, layout, result, node_ids, exclude_node_ids) \
            if with_files else _Plan()
        _check_room(layout, plan, database_size, channel_id)
        if with_files:
            _copy_files(plan, layout, result, progress)
            _update_manifest(layout, database, channel_id, channel.version,
                             _nodes_whole_on_drive(plan, result))
            crash_point("export.manifest_written")
        result.database = layout.database_path(channel_id)
        _copy_verified(_StoreReader(database_handle, database), result.database, layout,
                       _counter("database", database_size, progress),
                       before_rename=lambda: crash_point("export.database_copied"))
    if result.failures:
        raise FilesFailedError(f"export of channel {channel_id} to {layout.root}",
                               result.failures, result)
    return result


def _plan(database: Path, channel_id: str, layout: DriveLayout, result: ExportResult,
          node_ids: list[str] | None, exclude_node_ids: list[str] | None) -> _Plan:
    tree = read_tree(database)
    selected = select_nodes(tree, channel_id, node_ids=node_ids,
                            exclude_node_ids=exclude_node_ids)
    by_node, invalid = read_node_files(database, selected)
    result.failures.extend(FileFailure(name, "", "malformed name in the channel database")
                           for name in invalid)
    present = present_checksums({ref.checksum for refs in by_node.values() for ref in refs})
    plan = _Plan()
    plan.exported_nodes = [node_id for node_id in selected
                           if all(ref.checksum in present for ref in by_node.get(node_id, []))]
    plan.checksums_of = {node_id: {ref.checksum for ref in by_node.get(node_id, [])}
                         for node_id in plan.exported_nodes}
    result.nodes_not_here = len(selected) - len(plan.exported_nodes)
    files = distinct_files(plan.exported_nodes, by_node)
    result.files_total = len(files)
    for ref in files:
        source = storage_path(ref.checksum, ref.extension)
        try:
            size = source.stat().st_size
        except OSError:
            result.failures.append(FileFailure(
                ref.checksum, ref.extension,
                "registered but missing from this server's storage; run verifystorage --repair"))
            continue
        target = layout.storage_file(ref.checksum, ref.extension)
        if target.is_file() and target.stat().st_size == size:
            result.already_on_drive += 1
            continue
        plan.to_copy.append((ref, source, size))
    result.bytes_total = sum(size for _, _, size in plan.to_copy)
    return plan


def _check_room(layout: DriveLayout, plan: _Plan, database_size: int, channel_id: str) -> None:
    if is_fat(layout.root):
        for ref, _source, size in plan.to_copy:
            if size > FAT_MAX_FILE_SIZE:
                raise FileTooLargeForDriveError(layout.root, f"file {ref.name}", size)
        if database_size > FAT_MAX_FILE_SIZE:
            raise FileTooLargeForDriveError(layout.root, f"the database of {channel_id}",
                                            database_size)
    needed = sum(size for _, _, size in plan.to_copy) + database_size
    free = free_space(layout.root)
    if needed > free:
        raise NotEnoughSpaceError(layout.root, needed, free)


def _counter(stage: str, total: int, progress: ProgressSink) -> Callable[[int], None]:
    done = 0

    def on_bytes(count: int) -> None:
        nonlocal done
        done += count
        progress.update(stage, done, max(total, done))

    return on_bytes


def _copy_files(plan: _Plan, layout: DriveLayout, result: ExportResult,
                progress: ProgressSink) -> None:
    on_bytes = _counter("bytes", result.bytes_total, progress)
    done = result.already_on_drive
    progress.update("files", done, result.files_total)
    for ref, source, _size in plan.to_copy:
        try:
            with _open_stored(source) as reader:
                result.bytes_copied += _copy_verified(
                    _StoreReader(reader, source), layout.storage_file(ref.checksum, ref.extension),
                    layout, on_bytes, expected_md5=ref.checksum)
            result.copied += 1
            crash_point("export.file_copied")
        except (_StoredCopyDamagedError, FileNotFoundError) as problem:
            result.failures.append(FileFailure(ref.checksum, ref.extension, str(problem)))
        done += 1
        progress.update("files", done, result.files_total)


def _open_stored(source: Path) -> BinaryIO:
    try:
        return open(source, "rb")
    except OSError as error:
        if isinstance(error, FileNotFoundError):
            raise  # removed since the plan: this file fails, the others go on
        raise StoreReadError(source, error) from error


def _nodes_whole_on_drive(plan: _Plan, result: ExportResult) -> list[str]:
    """The planned nodes none of whose files failed: what the manifest may claim."""
    failed = {failure.checksum for failure in result.failures}
    return [node_id for node_id in plan.exported_nodes
            if not plan.checksums_of.get(node_id, set()) & failed]


class _Readable(Protocol):
    def read(self, size: int, /) -> bytes: ...


def _copy_verified(reader: _Readable, target: Path, layout: DriveLayout,
                   on_bytes: Callable[[int], None], expected_md5: str | None = None,
                   before_rename: Callable[[], None] = lambda: None) -> int:
    """Copy `reader` to `target` on the drive through a `.partial` name; see the module doc."""
    temporary = target.with_name(f"{target.name}.partial")
    source_md5, written = hashlib.md5(), 0
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(temporary, "wb") as writer:
            while chunk := reader.read(CHUNK_SIZE):
                source_md5.update(chunk)
                writer.write(chunk)
                written += len(chunk)
                on_bytes(len(chunk))
            writer.flush()
            os.fsync(writer.fileno())
        if expected_md5 is not None and source_md5.hexdigest() != expected_md5:
            raise _StoredCopyDamagedError(
                f"this server's stored copy has MD5 {source_md5.hexdigest()}; run "
                f"verifystorage --repair")
        if _md5_of(temporary) != source_md5.hexdigest():
            raise DestinationWriteError(target, "the copy reads back different bytes")
        before_rename()
        os.replace(temporary, target)
    except OSError as error:
        if error.errno == errno.ENOSPC:
            raise DiskFullError(layout.root) from error
        raise DestinationWriteError(layout.root, error) from error
    finally:
        try:
            temporary.unlink(missing_ok=True)
        except OSError:
            pass  # the drive is gone; the .partial name is reused by the next export
    fsync_directory(target.parent)
    return written


def _md5_of(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK_SIZE):
            digest.update(chunk)
    return digest.hexdigest()


def _update_manifest(layout: DriveLayout, database: Path, channel_id: str, version: int,
                     exported_nodes: list[str]) -> None:
    """Add this export's nodes to the drive's entry for this channel version (files exported
    before are still on the drive), keeping every other entry."""
    entries = read_manifest(layout.manifest_path)
    tree = read_tree(database)
    held = set(exported_nodes)
    for entry in entries:
        if (entry.channel_id, entry.version) == (channel_id, version):
            held |= subtrees_of(tree, entry.include_node_ids)
    roots = covering_roots(tree, held)
    try:
        write_manifest(layout.manifest_path,
                       merge_entry(entries, ManifestEntry(channel_id, version, tuple(roots))))
    except OSError as error:
        if error.errno == errno.ENOSPC:
            raise DiskFullError(layout.root) from error
        raise DestinationWriteError(layout.root, error) from error
