"""Content imports as device state: run one, record how far it got, list and resume the
unfinished ones.

Every `importcontent` (and its task) keeps a `ContentImport` row in the default database: the
channel, the source, the selection, the counts, and a state. A run stopped by Ctrl-C, a cancel,
a pulled drive or a full disk is marked "interrupted"; one killed outright stays "running" with
nobody holding its lock, which `unfinished_imports` reports as stopped. Running the same import
again (or `resume_import(row_id)`) reuses the row and copies only the files still missing.

    result = run_content_import(channel_id, "disk", "/media/usb", store, roots, node_ids, None)
    for item in unfinished_imports(): print(item.command)
    resume_import(item.id, progress=reporter)
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from channels.models import Channel, ContentImport
from channels.transfer.base import (
    NO_PROGRESS,
    ContentImportResult,
    FileFailure,
    FileStore,
    ProgressSink,
    copy_files,
)
from channels.transfer.errors import (
    ChannelNotInstalledError,
    FilesFailedError,
    TransferError,
)
from channels.transfer.locking import import_lock, is_import_running
from channels.transfer.selection import (
    parse_node_ids,
    read_files,
    read_tree,
    select_nodes,
    subtrees_of,
)
from channels.versions import version_database_path
from routers.registry import channel_database_path

ROW_WRITE_INTERVAL = 2.0


@dataclass(frozen=True)
class UnfinishedImport:
    id: int
    channel_id: str
    channel_name: str
    source_kind: str
    source: str
    node_ids: list[str] | None
    exclude_node_ids: list[str]
    state: str          # interrupted, incomplete, or running
    is_running: bool    # False: nobody works on it (stopped by a reboot or a kill)
    files_total: int
    files_done: int
    files_failed: int
    problem: str
    updated_at: str

    @property
    def command(self) -> str:
        """The command line that resumes it."""
        words = ["kolibri-like", "importcontent", self.source_kind, self.channel_id,
                 shlex.quote(self.source)]
        if self.node_ids:
            words += ["--node_ids", ",".join(self.node_ids)]
        if self.exclude_node_ids:
            words += ["--exclude_node_ids", ",".join(self.exclude_node_ids)]
        return " ".join(words)


def served_version_file(channel_id: str, import_hint: str) -> tuple[Channel, Path]:
    """The installed channel and the immutable file of its current version (a revert during
    the import does not change what this import reads)."""
    channel = Channel.objects.servable().filter(id=channel_id).first()
    if channel is None:
        raise ChannelNotInstalledError(channel_id, import_hint)
    path = version_database_path(channel_id, channel.version)
    return channel, path if path.is_file() else channel_database_path(channel_id)


def run_content_import(channel_id: str, *, kind: str, source: str, store: FileStore,
                       import_hint: str, node_ids: list[str] | None,
                       exclude_node_ids: list[str] | None,
                       roots_on_source: Callable[[int], set[str] | None],
                       progress: ProgressSink | None = None,
                       extra_space: Callable[[list[int]], int] | None = None,
                       ) -> ContentImportResult:
    """Copy the files of the chosen nodes of the installed channel from `store`.

    `roots_on_source(version)` gives the subtree roots a partial source holds (None: all).
    Raises FilesFailedError at the end if some files were missing or damaged there.
    """
    progress = progress or NO_PROGRESS
    node_ids, exclude_node_ids = parse_node_ids(node_ids), parse_node_ids(exclude_node_ids)
    with import_lock(channel_id):
        channel, database = served_version_file(channel_id, import_hint)
        tree = read_tree(database)
        selected = select_nodes(tree, channel_id, node_ids=node_ids,
                                exclude_node_ids=exclude_node_ids)
        roots = roots_on_source(channel.version)
        wanted = selected
        if roots is not None:
            held = subtrees_of(tree, roots)
            wanted = [node_id for node_id in selected if node_id in held]
        files, invalid = read_files(database, wanted)
        # A drive that holds every chosen node (the usual whole export) needs one read only.
        all_files, _ = read_files(database, selected) if len(wanted) != len(selected) \
            else (files, [])
        row = _begin(channel, kind, source, node_ids, exclude_node_ids)
        result = ContentImportResult(channel_id, channel.version, store.label, import_id=row.pk)
        result.not_on_source = len({ref.checksum for ref in all_files}
                                   - {ref.checksum for ref in files})
        result.failures.extend(FileFailure(name, "", "malformed file name in the channel "
                                                     "database") for name in invalid)
        recorder = _RowRecorder(row)
        try:
            sizes = [ref.size or 0 for ref in files]
            copy_files(result, files, store, progress=progress, record=recorder,
                       extra_space=extra_space(sizes) if extra_space else 0)
        except BaseException as error:
            _stop(row, result, error)
            raise
        _finish(row, result)
    if result.failures:
        raise FilesFailedError(f"import of channel {channel_id} from {store.label}",
                               result.failures, result)
    return result


def _begin(channel: Channel, kind: str, source: str, node_ids: list[str] | None,
           exclude_node_ids: list[str] | None) -> ContentImport:
    """The unfinished row of the same import if there is one (a resume), else a new row."""
    exclude = sorted(exclude_node_ids or [])
    chosen = sorted(node_ids) if node_ids else None
    for row in ContentImport.objects.filter(channel=channel, source_kind=kind, source=source) \
            .exclude(state=ContentImport.State.DONE):
        if row.node_ids == chosen and sorted(row.exclude_node_ids or []) == exclude:
            row.state, row.problem, row.version = ContentImport.State.RUNNING, "", channel.version
            row.save(update_fields=["state", "problem", "version", "updated_at"])
            return row
    return ContentImport.objects.create(channel=channel, source_kind=kind, source=source,
                                        node_ids=chosen, exclude_node_ids=exclude,
                                        version=channel.version)


class _RowRecorder:
    """Writes the counts to the row at most every ROW_WRITE_INTERVAL seconds (a heartbeat)."""

    def __init__(self, row: ContentImport) -> None:
        self.row, self.last = row, 0.0

    def __call__(self, result: ContentImportResult) -> None:
        now = time.monotonic()
        if now - self.last >= ROW_WRITE_INTERVAL:
            self.last = now
            _copy_counts(self.row, result)
            self.row.save()


def _copy_counts(row: ContentImport, result: ContentImportResult) -> None:
    row.files_total, row.files_done = result.files_total, result.files_done
    row.files_failed = len(result.failures)
    row.bytes_total, row.bytes_done = result.bytes_total, result.bytes_copied


def _stop(row: ContentImport, result: ContentImportResult, error: BaseException) -> None:
    _copy_counts(row, result)
    row.state = ContentImport.State.INTERRUPTED
    if isinstance(error, TransferError | OSError):
        row.problem = str(error)[:2000]
    elif isinstance(error, KeyboardInterrupt):
        row.problem = "interrupted (Ctrl-C or SIGTERM)"
    elif getattr(error, "is_cancellation", False):
        row.problem = "cancelled; resume it to continue where it stopped"
    else:
        row.problem = f"stopped: {error.__class__.__name__}: {error}"[:2000]
    try:
        row.save()
    except Exception:  # noqa: BLE001 - the original error matters more than the bookkeeping
        pass


def _finish(row: ContentImport, result: ContentImportResult) -> None:
    _copy_counts(row, result)
    row.finished_at = timezone.now()
    if result.failures:
        row.state = ContentImport.State.INCOMPLETE
        row.problem = "; ".join(f"{failure.name}: {failure.reason}"
                                for failure in result.failures[:20])
    else:
        row.state, row.problem = ContentImport.State.DONE, ""
    with transaction.atomic():
        row.save()
        if row.state == ContentImport.State.DONE and not row.node_ids \
                and not row.exclude_node_ids:
            # The whole channel is here now: every other unfinished import of it is covered.
            ContentImport.objects.filter(channel_id=row.channel_id).exclude(pk=row.pk).exclude(
                state=ContentImport.State.DONE).update(
                    state=ContentImport.State.DONE, finished_at=row.finished_at,
                    problem=f"covered by import {row.pk} of the whole channel")


def unfinished_imports(channel_id: str | None = None) -> list[UnfinishedImport]:
    """Imports not done: interrupted, incomplete, or "running" (with `is_running` telling
    whether a live process holds it, or it was stopped by a reboot or a kill)."""
    rows = ContentImport.objects.exclude(state=ContentImport.State.DONE).select_related("channel")
    if channel_id is not None:
        rows = rows.filter(channel_id=channel_id)
    found = []
    for row in rows.order_by("started_at", "id"):
        running = row.state == ContentImport.State.RUNNING and is_import_running(row.channel_id)
        found.append(UnfinishedImport(
            id=row.pk, channel_id=row.channel_id, channel_name=row.channel.name,
            source_kind=row.source_kind, source=row.source, node_ids=row.node_ids,
            exclude_node_ids=list(row.exclude_node_ids or []), state=row.state,
            is_running=running, files_total=row.files_total, files_done=row.files_done,
            files_failed=row.files_failed, problem=row.problem,
            updated_at=row.updated_at.isoformat()))
    return found


def resume_import(import_id: int, *, progress: ProgressSink | None = None) -> ContentImportResult:
    """Run an unfinished import again with its source and selection."""
    row = ContentImport.objects.filter(pk=import_id).first()
    if row is None:
        raise ImportNotFoundError(import_id)
    if row.source_kind == ContentImport.SourceKind.NETWORK:
        from channels.transfer.network import import_content_from_network

        return import_content_from_network(row.channel_id, row.source, node_ids=row.node_ids,
                                           exclude_node_ids=row.exclude_node_ids or None,
                                           progress=progress)
    from channels.transfer.disk import import_content_from_disk

    return import_content_from_disk(row.channel_id, Path(row.source), node_ids=row.node_ids,
                                    exclude_node_ids=row.exclude_node_ids or None,
                                    progress=progress)


class ImportNotFoundError(TransferError):
    exit_code = 3
    http_status = 404

    def __init__(self, import_id: int) -> None:
        super().__init__(f"no import {import_id}; `listchannels` lists the unfinished ones")
