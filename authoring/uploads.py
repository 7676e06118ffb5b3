"""Uploads of the course-creation wizard: start, append (tus PATCH), complete. (Editing and
removing a file: authoring.draft_files.)

An upload is a `DraftFile` (what the author sees: name, state, progress) plus its
`UploadRecord` (the seed's `tmp_files` registry, from before the first byte) and a partial
file `CONTENT_DIR/uploads/<record id>.part` (authoring.uploads_area says why not in the temp
area), on the store's filesystem. The rules:

1. The database never claims more bytes than the disk holds: a chunk is written, fsynced,
   and only then is `received` raised. After a crash the partial file may hold more than
   `received` (written, never confirmed) or, if it was lost, less; the truth is
   the smaller of the two, and the file is trimmed to it before anything else is appended.
2. One writer per upload: every change of a partial file happens under `flock` on it, so two
   PATCHes of one upload never interleave (the second waits a moment, then answers 423 and
   the client retries; a database row lock would hold SQLite's write lock for a whole chunk).
3. The first bytes are checked against the declared type as soon as they arrive (before they
   are written): a mismatch ends the upload in Error with the reason and deletes its bytes.
4. The last byte stores the file (`storage.files.put_file`, by MD5) under the store's shared
   write lock, held until the rows that reference it are committed, so `delete_if_unreferenced`
   (which marks under the exclusive lock) never sees the file without its reference.
   Videos then go to Processing and an encode starts; office documents too, with a
   conversion to PDF, when LibreOffice is installed; everything else is Finished. An HTML5
   app's zip is checked whole first (storage.zip_serving.check_zip_archive): a refused one is
   never stored and ends in Error with each problem (400).

    item = start_upload(author, draft.id, filename="intro.mp4", size=10_485_760)
    item = append_chunk(author, draft.id, item.id, offset=0, stream=request, length=8 << 20)
    item = receive_whole_file(author, draft.id, request.FILES["file"], description="Intro")
    remove_file(author, draft.id, item.id)
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext

from authoring.draft_files import clean_fields, discard_file, free_stored, get_file
from authoring.drafts import get_open_draft
from authoring.errors import (
    DraftFileNotFoundError,
    EmptyUploadError,
    InvalidDraftError,
    UploadBusyError,
    UploadDiskFullError,
    UploadInterruptedError,
    UploadOffsetError,
    UploadRejectedError,
    UploadTooLargeError,
    UnsafeArchiveError,
    UploadWriteError,
)
from authoring.filetypes import (
    SIGNATURE_BYTES,
    FileType,
    check_signature,
    classify,
    safe_display_name,
)
from authoring.models import Draft, DraftFile, UploadRecord
from authoring.uploads_area import partial_path, uploads_dir
from kolibri_like.crashpoints import crash_point
from storage.files import fsync_directory, put_file
from storage.gc import store_write_lock
from storage.zip_serving import check_zip_archive

logger = logging.getLogger(__name__)

PIECE_SIZE = 1024 * 1024
MULTIPART_MAX_SIZE = 64 * 1024 * 1024
LOCK_WAIT_SECONDS = 3.0
LOCK_POLL_SECONDS = 0.05
DISK_FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)


class Readable(Protocol):
    def read(self, size: int = ..., /) -> bytes: ...


def format_size(size: int) -> str:
    """2147483648 -> "2 GB", 5242880 -> "5 MB" (binary units, as MAX_UPLOAD_SIZE is set)."""
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if size >= scale:
            return f"{size / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{size} bytes"


# Start -------------------------------------------------------------------------------------

def start_upload(user: Any, draft_id: object, *, filename: object, size: object,
                 description: object = "", topic: object = "",
                 usage: object = DraftFile.Usage.RESOURCE) -> DraftFile:
    """A new file of an open draft, in state Uploading, with an empty partial file."""
    get_open_draft(user, draft_id)  # someone else's draft is a 404 before anything else
    name = safe_display_name(filename)
    file_type = classify(name)
    declared = check_declared_size(size)
    fields = clean_fields({"description": description, "topic": topic, "usage": usage},
                          file_type=file_type)
    folder = uploads_dir()
    folder.mkdir(parents=True, exist_ok=True)
    record_id = uuid.uuid4()
    path = folder / f"{record_id}.part"
    try:
        with transaction.atomic():
            draft = get_open_draft(user, draft_id, for_update=True)
            last = draft.files.aggregate(last=Max("position"))["last"]
            item = DraftFile.objects.create(
                draft=draft, name=name, file_type=file_type.name,
                extension=file_type.extension, size=declared,
                position=0 if last is None else last + 1, **fields)
            UploadRecord.objects.create(id=record_id, draft_file=item, partial_name=path.name,
                                        extension=file_type.extension)
            _create_empty(path)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return item


def check_declared_size(size: object) -> int:
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise InvalidDraftError({"size": gettext("must be the file's size in bytes")})
    if size == 0:
        raise EmptyUploadError(gettext("The file is empty; choose the file again."))
    limit = int(settings.MAX_UPLOAD_SIZE)
    if size > limit:
        raise UploadTooLargeError(gettext(
            "This file is %(size)s; the largest upload this server accepts is %(limit)s "
            "(MAX_UPLOAD_SIZE). Split or compress it, or ask the admin to raise the limit.")
            % {"size": format_size(size), "limit": format_size(limit)})
    return size


def _create_empty(path: Path) -> None:
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as error:
        raise _disk_error(error) from error
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    fsync_directory(path.parent)


def _disk_error(error: OSError) -> Exception:
    if error.errno in DISK_FULL_ERRNOS:
        return UploadDiskFullError(gettext(
            "The server's disk is full, so the upload cannot continue. What arrived so far is "
            "kept: ask the admin to free space, then resume the upload."))
    return UploadWriteError(gettext(
        "The server could not write the upload to its disk (%(reason)s). What arrived before "
        "is kept: ask the admin to check the disk, then resume the upload.")
        % {"reason": error.strerror})


# Append ------------------------------------------------------------------------------------

def append_chunk(user: Any, draft_id: object, file_id: object, *, offset: int,
                 stream: Readable, length: int | None = None) -> DraftFile:
    """Append the bytes of `stream` (`length` of them, or up to the end) at `offset` (tus PATCH).

    See the module doc for the rules. Raises UploadOffsetError (409) unless `offset` is where
    the upload is, UploadTooLargeError (413) for bytes past the declared size (none of them is
    kept), UploadRejectedError (415) when the first bytes contradict the type,
    UploadDiskFullError (507), UploadInterruptedError (400) for a body cut short (what arrived
    is kept), UploadBusyError (423) while another request writes this upload.
    """
    item = get_file(user, draft_id, file_id, editable=True)
    if item.state != DraftFile.State.UPLOADING:
        return _ended(item, offset, length)
    record = _record_of(item)
    path = partial_path(record)
    with _locked_partial(path, wait_seconds=LOCK_WAIT_SECONDS) as descriptor:
        item = _reload(item, path)
        if item.state != DraftFile.State.UPLOADING:
            return _ended(item, offset, length)
        durable = reconcile(item, descriptor)
        if offset != durable:
            raise UploadOffsetError(gettext(
                "This upload is at byte %(durable)s, not %(offset)s: ask (HEAD) for "
                "Upload-Offset and send from there.") % {"durable": durable, "offset": offset})
        allowed = item.size - durable
        if length is not None and length > allowed:
            raise UploadTooLargeError(gettext(
                "This chunk would end at byte %(end)s, past the %(size)s bytes declared for the "
                "file; nothing of it was kept.") % {"end": offset + length, "size": item.size})
        position = _write_body(item, record, descriptor, stream, durable,
                               allowed if length is None else length, exact=length is not None)
        if position == item.size:
            return complete_upload(item)
    return item


def _write_body(item: DraftFile, record: UploadRecord, descriptor: int, stream: Readable,
                start: int, wanted: int, *, exact: bool) -> int:
    """Write up to `wanted` bytes of `stream` at `start` in pieces, then fsync and record.

    1. Read a piece (at most PIECE_SIZE); a read error or an early end is a dropped
       connection: keep what arrived.
    2. While the file's first SIGNATURE_BYTES are not all in, collect them and check them
       against the type before writing the piece that completes them.
    3. pwrite the piece; on a full disk, trim it off again (the file ends at a piece boundary).
    4. fsync, then raise `received` to the new end: the database never runs ahead of the disk.
    """
    need = min(SIGNATURE_BYTES, item.size)
    head: bytes | None = os.pread(descriptor, start, 0) if start < need else None
    position = start
    failure: Exception | None = None
    while position - start < wanted:
        try:
            piece = stream.read(min(PIECE_SIZE, wanted - (position - start)))
        except OSError:
            piece = b""
        if not piece:
            if exact:
                failure = UploadInterruptedError(gettext(
                    "The connection dropped after %(done)s of %(wanted)s bytes of this chunk; "
                    "they are kept. Ask (HEAD) for Upload-Offset (%(position)s) and resume.")
                    % {"done": position - start, "wanted": wanted, "position": position})
            break
        if head is not None:
            head += piece[:need - len(head)]
            if len(head) >= need:
                try:
                    check_signature(FileType(item.file_type, item.extension), head)
                except UploadRejectedError as rejected:
                    fail_upload(item, str(rejected))
                    raise
                head = None
        try:
            write_at(descriptor, piece, position)
        except OSError as error:
            os.ftruncate(descriptor, position)
            failure = _disk_error(error)
            break
        position += len(piece)
    if not exact and position - start == wanted and _has_more(stream):
        failure = UploadTooLargeError(gettext(
            "The upload sent more than the %(size)s bytes declared for the file; the bytes past "
            "that were not kept.") % {"size": item.size})
    try:
        os.fsync(descriptor)
    except OSError as error:
        # Nothing of this request is known to be on disk; `received` stays where it was and
        # the next request trims the rest off (rule 1 of the module doc).
        raise _disk_error(error) from error
    crash_point("upload.bytes_written")
    _record_received(item, record, position)
    if failure is not None:
        raise failure
    return position


def write_at(descriptor: int, data: bytes, position: int) -> None:
    """pwrite all of `data` (a write may be short)."""
    view = memoryview(data)
    while view:
        written = os.pwrite(descriptor, view, position)
        view, position = view[written:], position + written


def _has_more(stream: Readable) -> bool:
    try:
        return bool(stream.read(1))
    except OSError:
        return False


def _record_of(item: DraftFile) -> UploadRecord:
    record = UploadRecord.objects.filter(draft_file=item).first()
    if record is None:
        raise UploadOffsetError(gettext(
            "This upload's partial file is gone (the upload ended or was cleaned up); remove the "
            "file and upload it again."))
    return record


def _reload(item: DraftFile, path: Path) -> DraftFile:
    """The row as it is now that we hold the lock (a concurrent request may have moved it)."""
    fresh = DraftFile.objects.filter(id=item.id).first()
    if fresh is None:
        # Removed while we waited: our open may have recreated the partial file, drop it.
        path.unlink(missing_ok=True)
        raise DraftFileNotFoundError(gettext("This file was removed from the draft."))
    return fresh


def _ended(item: DraftFile, offset: int, length: int | None) -> DraftFile:
    if item.state == DraftFile.State.ERROR:
        raise UploadRejectedError(item.error
                                  or gettext("This upload failed; remove it and upload again."))
    if offset == item.size and not length:
        return item  # a retried last PATCH whose answer was lost: nothing to do
    raise UploadOffsetError(gettext("This upload is complete (%(size)s bytes); nothing more can "
                                    "be appended.") % {"size": item.size})


def reconcile(item: DraftFile, descriptor: int) -> int:
    """The bytes durably received (rule 1 of the module doc); trims the partial file to them.
    Call with the partial file's lock held."""
    on_disk = os.fstat(descriptor).st_size
    durable = min(item.received, on_disk)
    if on_disk > durable:
        os.ftruncate(descriptor, durable)
        os.fsync(descriptor)
    if item.received != durable:
        DraftFile.objects.filter(id=item.id).update(received=durable)
        item.received = durable
    return durable


def _record_received(item: DraftFile, record: UploadRecord, position: int) -> None:
    now = timezone.now()
    updated = DraftFile.objects.filter(id=item.id, state=DraftFile.State.UPLOADING).update(
        received=position, updated_at=now)
    # The registry's clock: a stalled upload ages from its last byte.
    UploadRecord.objects.filter(id=record.id).update(updated_at=now)
    if not updated:
        partial_path(record).unlink(missing_ok=True)
        raise DraftFileNotFoundError(gettext("This file was removed from the draft while it uploaded."))
    item.received = position


def fail_upload(item: DraftFile, reason: str) -> None:
    """End an upload in Error with `reason`, dropping its bytes and registry row."""
    DraftFile.objects.filter(id=item.id).update(state=DraftFile.State.ERROR, error=reason,
                                                updated_at=timezone.now())
    for record in UploadRecord.objects.filter(draft_file_id=item.id):
        partial_path(record).unlink(missing_ok=True)
        record.delete()
    item.state, item.error = DraftFile.State.ERROR, reason


@contextmanager
def _locked_partial(path: Path, *, wait_seconds: float) -> Iterator[int]:
    """Open `path` and hold `flock` on it; UploadBusyError after `wait_seconds`.

    If the path was replaced while we waited (removed, then recreated), we hold a lock on a
    file nobody else sees: start again on the new one (bounded).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait_seconds
    for _attempt in range(3):
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            while True:
                try:
                    fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise UploadBusyError(gettext(
                            "Another request is writing this upload right now; try again in a "
                            "moment.")) from None
                    time.sleep(LOCK_POLL_SECONDS)
            try:
                same = os.stat(path).st_ino == os.fstat(descriptor).st_ino
            except FileNotFoundError:
                same = False
            if same:
                yield descriptor
                return
        finally:
            os.close(descriptor)  # closing releases the lock
    raise UploadBusyError(gettext("This upload's partial file keeps changing; try again in a "
                                  "moment."))


# Complete ----------------------------------------------------------------------------------

def complete_upload(item: DraftFile) -> DraftFile:
    """Store a whole upload and move it on (rule 4 of the module doc). Call it holding the
    partial file's lock, with all `item.size` bytes durably received."""
    record = _record_of(item)
    path = partial_path(record)
    if item.file_type == "html5":
        _check_archive(item, path)
    state = (DraftFile.State.PROCESSING if item.file_type == "video" or _converts(item)
             else DraftFile.State.FINISHED)
    with store_write_lock(shared=True):
        try:
            stored = put_file(path, item.extension)
        except OSError as error:
            raise _disk_error(error) from error
        crash_point("upload.stored")
        if stored.size != item.size:
            # Cannot happen unless someone wrote the partial file behind our lock.
            raise UploadOffsetError(gettext("The upload holds %(stored)s bytes, not %(size)s; ask "
                                            "(HEAD) for Upload-Offset and resume.")
                                    % {"stored": stored.size, "size": item.size})
        now = timezone.now()
        with transaction.atomic():
            updated = DraftFile.objects.filter(
                id=item.id, state=DraftFile.State.UPLOADING).update(
                checksum=stored.checksum, state=state, received=item.size, progress=0,
                error="", updated_at=now)
            UploadRecord.objects.filter(id=record.id).update(
                checksum=stored.checksum, completed_at=now, updated_at=now)
    path.unlink(missing_ok=True)
    if not updated:
        free_stored({stored.checksum})
        raise DraftFileNotFoundError(gettext("This file was removed from the draft while it uploaded."))
    item.refresh_from_db()
    if state == DraftFile.State.PROCESSING and item.file_type == "office":
        _start_conversion(item)
    elif state == DraftFile.State.PROCESSING:
        _start_encode(item)
    return item


def _check_archive(item: DraftFile, path: Path) -> None:
    """Refuse an HTML5 app that serving would refuse or that cannot start (no index.html),
    before it is stored: the upload ends in Error and its bytes are gone."""
    problems = check_zip_archive(path)
    if problems:
        refused = UnsafeArchiveError(problems)
        fail_upload(item, str(refused))
        raise refused


def _converts(item: DraftFile) -> bool:
    """An office document gets a PDF copy when LibreOffice is installed (authoring.conversion);
    without it, it is Finished at once as a download."""
    if item.file_type != "office":
        return False
    from authoring.conversion import conversion_available

    return conversion_available()


def _start_conversion(item: DraftFile) -> None:
    try:
        from authoring.conversion import start_conversion

        start_conversion(item)
    except Exception:  # the original is usable as it is: a download, never stuck Processing
        logger.exception("could not start the conversion of draft file %s", item.id)
        DraftFile.objects.filter(id=item.id, state=DraftFile.State.PROCESSING).update(
            state=DraftFile.State.FINISHED, progress=100, error="", updated_at=timezone.now())
    item.refresh_from_db()


def _start_encode(item: DraftFile) -> None:
    try:
        from authoring.encoding import start_encode

        start_encode(item)
    except Exception as error:  # a file must never stay in Processing with no job behind it
        logger.exception("could not start the encode of draft file %s", item.id)
        reason = (f"The video could not be queued for encoding ({error}); remove it and "
                  "upload it again.")
        DraftFile.objects.filter(id=item.id, state=DraftFile.State.PROCESSING).update(
            state=DraftFile.State.ERROR, error=reason, updated_at=timezone.now())
    item.refresh_from_db()


def upload_status(user: Any, draft_id: object, file_id: object) -> DraftFile:
    """The file with `received` set to what is durably on disk (tus HEAD).

    Also the repair after a crash: the partial file is trimmed to the truth, and an upload
    whose bytes are all in but which was never stored (the server died in between; the
    client, seeing offset == length, will not send again) is completed now.
    """
    item = get_file(user, draft_id, file_id)
    if item.state != DraftFile.State.UPLOADING:
        return item
    record = _record_of(item)
    path = partial_path(record)
    try:
        with _locked_partial(path, wait_seconds=0) as descriptor:
            item = _reload(item, path)
            if item.state == DraftFile.State.UPLOADING:
                reconcile(item, descriptor)
                if item.received == item.size and item.draft.state == Draft.State.OPEN:
                    item = complete_upload(item)
    except UploadBusyError:
        # A PATCH is writing: it alone may trim; report what is confirmed on both sides.
        on_disk = path.stat().st_size if path.exists() else 0
        item.received = min(item.received, on_disk)
    return item


# Plain multipart ---------------------------------------------------------------------------

def receive_whole_file(user: Any, draft_id: object, uploaded_file: Any, *,
                       description: object = "", topic: object = "",
                       usage: object = DraftFile.Usage.RESOURCE) -> DraftFile:
    """A file sent whole (multipart POST, up to 64 MiB): the same checks, code and end state as
    a tus upload. A refused or failed one leaves nothing behind (the client got the reason)."""
    get_open_draft(user, draft_id)  # someone else's draft is a 404 before anything else
    size = uploaded_file.size
    check_declared_size(size)
    if size > MULTIPART_MAX_SIZE:
        raise UploadTooLargeError(gettext(
            "This file is %(size)s; a plain upload takes at most %(limit)s. Upload larger files "
            "resumably with the tus protocol (POST with the Tus-Resumable header).")
            % {"size": format_size(size), "limit": format_size(MULTIPART_MAX_SIZE)})
    item = start_upload(user, draft_id, filename=uploaded_file.name, size=size,
                        description=description, topic=topic, usage=usage)
    try:
        uploaded_file.seek(0)
        return append_chunk(user, draft_id, item.id, offset=0, stream=uploaded_file,
                            length=size)
    except BaseException:
        discard_file(item)
        raise
