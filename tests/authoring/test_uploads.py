"""authoring.uploads: start, append, complete, edit and remove uploads, with real files."""

from __future__ import annotations

import errno
import fcntl
import hashlib
import io
import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

import authoring.encoding
from authoring import uploads
from authoring.errors import (
    DraftFileNotFoundError,
    DraftNotEditableError,
    DraftNotFoundError,
    InvalidDraftError,
    UploadOffsetError,
    UploadRejectedError,
    UploadTooLargeError,
)
from authoring.models import Draft, DraftFile, UploadRecord
from authoring.draft_files import remove_file, update_file
from authoring.errors import UploadBusyError, UploadDiskFullError, UploadInterruptedError
from authoring.uploads import append_chunk, receive_whole_file, start_upload, upload_status
from authoring.uploads_area import partial_path, uploads_dir
from storage.models import StoredFile
from storage.paths import storage_path
from tests.authoring.factories import PDF, PNG

pytestmark = pytest.mark.django_db

MP4_HEAD = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41"


def pdf_bytes(size: int, seed: int = 1) -> bytes:
    body = PDF + hashlib.sha256(str(seed).encode()).digest() * (size // 32 + 1)
    return body[:size]


@pytest.fixture
def draft(author_user) -> Draft:
    return Draft.objects.create(owner=author_user, name="Fractions")


@pytest.fixture
def encodes(monkeypatch) -> list[object]:
    """Calls of authoring.encoding.start_encode (replaced: encoding has its own tests)."""
    calls: list[object] = []
    monkeypatch.setattr(authoring.encoding, "start_encode", lambda item: calls.append(item.id))
    return calls


def send(user, draft, item, offset: int, data: bytes) -> DraftFile:
    return append_chunk(user, draft.id, item.id, offset=offset, stream=io.BytesIO(data),
                        length=len(data))


def partial_of(item: DraftFile):
    return partial_path(UploadRecord.objects.get(draft_file=item))


def leftovers() -> list[str]:
    return sorted(path.name for path in uploads_dir().iterdir()) if uploads_dir().is_dir() else []


def test_start_registers_the_upload_with_an_empty_partial_file(author_user, draft):
    first = start_upload(author_user, draft.id, filename="../intro.pdf", size=100,
                         description=" Read me ", topic="Halves")
    second = start_upload(author_user, draft.id, filename="b.png", size=10, usage="test")
    assert (first.state, first.name, first.file_type, first.extension) == (
        DraftFile.State.UPLOADING, "intro.pdf", "document", "pdf")
    assert (first.description, first.topic, first.size, first.received) == (
        "Read me", "Halves", 100, 0)
    assert (first.position, second.position) == (0, 1)
    assert second.usage == "test"
    record = UploadRecord.objects.get(draft_file=first)
    assert record.extension == "pdf" and not record.checksum
    assert partial_path(record).read_bytes() == b""
    assert partial_path(record).parent == uploads_dir()


@pytest.mark.parametrize(("kwargs", "error", "words"), [
    ({"filename": "setup.exe", "size": 10}, UploadRejectedError, "Allowed:"),
    ({"filename": "a.pdf", "size": 6 << 20}, UploadTooLargeError, "largest upload this server "
                                                                 "accepts is 5 MB"),
    ({"filename": "a.pdf", "size": 0}, UploadRejectedError, "empty"),
    ({"filename": "a.pdf", "size": 10, "usage": "test"}, InvalidDraftError, "only images"),
    ({"filename": "a.pdf", "size": 10, "topic": "x" * 201}, InvalidDraftError, "200"),
])
def test_refused_uploads_leave_nothing(author_user, draft, settings, kwargs, error, words):
    settings.MAX_UPLOAD_SIZE = 5 << 20
    with pytest.raises(error, match=words):
        start_upload(author_user, draft.id, **kwargs)
    assert not DraftFile.objects.exists() and not UploadRecord.objects.exists()
    assert leftovers() == []


def test_the_size_limit_is_said_in_gigabytes_when_large(author_user, draft, settings):
    settings.MAX_UPLOAD_SIZE = 4 << 30
    with pytest.raises(UploadTooLargeError, match="accepts is 4 GB") as raised:
        start_upload(author_user, draft.id, filename="a.mp4", size=(4 << 30) + 1)
    assert raised.value.http_status == 413


def test_three_chunks_make_a_stored_pdf(author_user, draft, encodes):
    data = pdf_bytes(3000)
    item = start_upload(author_user, draft.id, filename="a.pdf", size=len(data))
    path = partial_of(item)
    assert send(author_user, draft, item, 0, data[:1000]).received == 1000
    assert upload_status(author_user, draft.id, item.id).received == 1000
    assert send(author_user, draft, item, 1000, data[1000:2000]).received == 2000
    done = send(author_user, draft, item, 2000, data[2000:])
    checksum = hashlib.md5(data).hexdigest()
    assert (done.state, done.checksum, done.received) == (DraftFile.State.FINISHED, checksum,
                                                          3000)
    assert storage_path(checksum, "pdf").read_bytes() == data
    record = UploadRecord.objects.get(draft_file=item)
    assert record.checksum == checksum and record.completed_at is not None
    assert not path.exists() and encodes == []


def test_a_video_goes_to_processing_and_its_encode_starts(author_user, draft, encodes):
    data = MP4_HEAD + os.urandom(5000)
    item = start_upload(author_user, draft.id, filename="talk.mp4", size=len(data))
    done = send(author_user, draft, item, 0, data)
    assert done.state == DraftFile.State.PROCESSING
    assert done.checksum == hashlib.md5(data).hexdigest()
    assert encodes == [item.id]


def test_a_video_is_handed_to_the_real_encoder_as_a_queued_job(author_user, draft,
                                                                django_capture_on_commit_callbacks):
    data = MP4_HEAD + os.urandom(100)
    item = start_upload(author_user, draft.id, filename="talk.mp4", size=len(data))
    with django_capture_on_commit_callbacks(execute=False) as enqueued:
        done = send(author_user, draft, item, 0, data)
    assert done.state == DraftFile.State.PROCESSING and done.job is not None
    assert done.job.params["checksum"] == done.checksum and len(enqueued) == 1


def test_a_video_whose_encode_cannot_start_ends_in_error(author_user, draft, monkeypatch):
    def refuse(item):
        raise RuntimeError("queue unreachable")

    monkeypatch.setattr(authoring.encoding, "start_encode", refuse)
    data = MP4_HEAD + os.urandom(100)
    item = start_upload(author_user, draft.id, filename="talk.mp4", size=len(data))
    done = send(author_user, draft, item, 0, data)
    assert done.state == DraftFile.State.ERROR and "queue unreachable" in done.error


def test_bytes_that_are_not_the_declared_type_are_refused_early(author_user, draft):
    data = PNG + os.urandom(4000)
    item = start_upload(author_user, draft.id, filename="notes.pdf", size=len(data))
    with pytest.raises(UploadRejectedError, match="bytes are not a PDF"):
        send(author_user, draft, item, 0, data[:2000])
    item.refresh_from_db()
    assert item.state == DraftFile.State.ERROR and "PNG image" in item.error
    assert leftovers() == [] and not UploadRecord.objects.exists()
    assert not StoredFile.objects.exists()
    # A retry of the same upload is refused with the same reason.
    with pytest.raises(UploadRejectedError, match="bytes are not a PDF"):
        send(author_user, draft, item, 0, data[:2000])


def test_the_signature_is_checked_across_tiny_chunks(author_user, draft):
    data = PNG + os.urandom(100)
    item = start_upload(author_user, draft.id, filename="notes.pdf", size=len(data))
    send(author_user, draft, item, 0, data[:10])  # not enough to judge yet: kept
    with pytest.raises(UploadRejectedError):
        send(author_user, draft, item, 10, data[10:80])


def test_a_wrong_offset_is_a_conflict_and_changes_nothing(author_user, draft):
    data = pdf_bytes(500)
    item = start_upload(author_user, draft.id, filename="a.pdf", size=len(data))
    send(author_user, draft, item, 0, data[:200])
    with pytest.raises(UploadOffsetError, match="at byte 200, not 100") as raised:
        send(author_user, draft, item, 100, data[100:300])
    assert raised.value.http_status == 409
    assert partial_of(item).read_bytes() == data[:200]


@pytest.mark.parametrize("declared", [True, False])
def test_bytes_past_the_declared_size_are_never_kept(author_user, draft, declared):
    data = pdf_bytes(500)
    item = start_upload(author_user, draft.id, filename="a.pdf", size=len(data))
    send(author_user, draft, item, 0, data[:400])
    too_much = data[400:] + b"extra"
    with pytest.raises(UploadTooLargeError):
        append_chunk(author_user, draft.id, item.id, offset=400, stream=io.BytesIO(too_much),
                     length=len(too_much) if declared else None)
    item.refresh_from_db()
    # Refused before reading when the length is known; else up to the size, never past it.
    assert item.received == (400 if declared else 500)
    assert partial_of(item).stat().st_size == item.received
    assert item.state == DraftFile.State.UPLOADING


class DroppingStream(io.BytesIO):
    """A request body whose connection breaks after `keep` bytes."""

    def __init__(self, data: bytes, keep: int) -> None:
        super().__init__(data[:keep])

    def read(self, size: int = -1) -> bytes:
        chunk = super().read(size)
        if not chunk:
            raise OSError(errno.ECONNRESET, "connection reset by peer")
        return chunk


@pytest.mark.parametrize("how", ["short body", "reset"])
def test_a_dropped_connection_keeps_what_arrived_and_resumes(author_user, draft, how):
    data = pdf_bytes(3 * uploads.PIECE_SIZE + 123)
    item = start_upload(author_user, draft.id, filename="big.pdf", size=len(data))
    keep = uploads.PIECE_SIZE + 500
    stream = io.BytesIO(data[:keep]) if how == "short body" else DroppingStream(data, keep)
    with pytest.raises(UploadInterruptedError, match=f"Upload-Offset \\({keep}\\)"):
        append_chunk(author_user, draft.id, item.id, offset=0, stream=stream, length=len(data))
    offset = upload_status(author_user, draft.id, item.id).received
    assert offset == keep and partial_of(item).stat().st_size == keep
    done = send(author_user, draft, item, offset, data[offset:])
    assert done.state == DraftFile.State.FINISHED
    assert done.checksum == hashlib.md5(data).hexdigest()
    assert storage_path(done.checksum, "pdf").read_bytes() == data


def test_after_a_crash_the_partial_file_is_trimmed_to_what_was_confirmed(author_user, draft):
    data = pdf_bytes(1000)
    item = start_upload(author_user, draft.id, filename="a.pdf", size=len(data))
    send(author_user, draft, item, 0, data[:300])
    with open(partial_of(item), "ab") as partial:  # written, then the server died
        partial.write(b"garbage never confirmed")
    assert upload_status(author_user, draft.id, item.id).received == 300
    assert partial_of(item).read_bytes() == data[:300]
    # Lost bytes the other way (a disk that dropped unsynced writes): the disk wins.
    os.truncate(partial_of(item), 120)
    assert upload_status(author_user, draft.id, item.id).received == 120
    item.refresh_from_db()
    assert item.received == 120
    assert send(author_user, draft, item, 120, data[120:]).checksum == hashlib.md5(
        data).hexdigest()


def test_a_crash_after_the_last_byte_is_completed_by_the_next_head(author_user, draft):
    data = pdf_bytes(700)
    item = start_upload(author_user, draft.id, filename="a.pdf", size=len(data))
    partial_of(item).write_bytes(data)
    DraftFile.objects.filter(id=item.id).update(received=len(data))
    status = upload_status(author_user, draft.id, item.id)
    assert status.state == DraftFile.State.FINISHED
    assert status.checksum == hashlib.md5(data).hexdigest()


def test_a_full_disk_is_507_and_the_partial_file_stays_consistent(author_user, draft,
                                                                 monkeypatch):
    data = pdf_bytes(2 * uploads.PIECE_SIZE + 10)
    item = start_upload(author_user, draft.id, filename="a.pdf", size=len(data))
    real_write = uploads.write_at

    def fill_up(descriptor, piece, position):
        if position >= uploads.PIECE_SIZE:
            os.pwrite(descriptor, piece[:100], position)  # part of it got out
            raise OSError(errno.ENOSPC, "No space left on device")
        real_write(descriptor, piece, position)

    monkeypatch.setattr(uploads, "write_at", fill_up)
    with pytest.raises(UploadDiskFullError, match="disk is full") as raised:
        send(author_user, draft, item, 0, data)
    assert raised.value.http_status == 507
    assert upload_status(author_user, draft.id, item.id).received == uploads.PIECE_SIZE
    assert partial_of(item).read_bytes() == data[:uploads.PIECE_SIZE]
    monkeypatch.setattr(uploads, "write_at", real_write)
    done = send(author_user, draft, item, uploads.PIECE_SIZE, data[uploads.PIECE_SIZE:])
    assert done.checksum == hashlib.md5(data).hexdigest()


def test_two_writers_of_one_upload_never_interleave(author_user, draft, monkeypatch):
    monkeypatch.setattr(uploads, "LOCK_WAIT_SECONDS", 0.2)
    data = pdf_bytes(500)
    item = start_upload(author_user, draft.id, filename="a.pdf", size=len(data))
    with open(partial_of(item), "rb") as other_writer:
        fcntl.flock(other_writer.fileno(), fcntl.LOCK_EX)
        with pytest.raises(UploadBusyError):
            send(author_user, draft, item, 0, data[:100])
        # HEAD still answers while a chunk is being written, without trimming anything.
        assert upload_status(author_user, draft.id, item.id).received == 0
    assert partial_of(item).read_bytes() == b""
    assert send(author_user, draft, item, 0, data[:100]).received == 100


def test_the_same_bytes_in_two_drafts_are_stored_once_and_freed_with_the_last(
        author_user, draft):
    other = Draft.objects.create(owner=author_user)
    data = pdf_bytes(900)
    items = []
    for target in (draft, other):
        item = start_upload(author_user, target.id, filename="same.pdf", size=len(data))
        items.append(send(author_user, target, item, 0, data))
    checksum = items[0].checksum
    assert items[1].checksum == checksum and StoredFile.objects.count() == 1
    remove_file(author_user, draft.id, items[0].id)
    assert storage_path(checksum, "pdf").exists()
    assert not DraftFile.objects.filter(id=items[0].id).exists()
    assert not UploadRecord.objects.filter(checksum=checksum, draft_file=None).exists()
    remove_file(author_user, other.id, items[1].id)
    assert not storage_path(checksum, "pdf").exists() and not StoredFile.objects.exists()
    assert not UploadRecord.objects.exists()


def test_removing_an_upload_in_flight_deletes_its_partial_file(author_user, draft):
    item = start_upload(author_user, draft.id, filename="a.pdf", size=500)
    send(author_user, draft, item, 0, pdf_bytes(500)[:100])
    path = partial_of(item)
    remove_file(author_user, draft.id, item.id)
    assert not path.exists() and leftovers() == [] and not UploadRecord.objects.exists()
    with pytest.raises(DraftFileNotFoundError):
        send(author_user, draft, item, 100, b"x")
    assert leftovers() == []  # the late chunk did not recreate it


def test_whole_file_upload_ends_like_a_tus_upload(author_user, draft):
    uploaded = SimpleUploadedFile("lesson.pdf", PDF, content_type="application/pdf")
    item = receive_whole_file(author_user, draft.id, uploaded, description="Lesson",
                              topic="Halves")
    assert (item.state, item.checksum, item.description, item.topic) == (
        DraftFile.State.FINISHED, hashlib.md5(PDF).hexdigest(), "Lesson", "Halves")
    assert leftovers() == []


def test_a_refused_whole_file_upload_leaves_nothing(author_user, draft):
    uploaded = SimpleUploadedFile("lesson.pdf", PNG)
    with pytest.raises(UploadRejectedError, match="bytes are not a PDF"):
        receive_whole_file(author_user, draft.id, uploaded)
    assert not DraftFile.objects.exists() and not UploadRecord.objects.exists()
    assert leftovers() == [] and not StoredFile.objects.exists()


def test_a_whole_file_over_64_mib_is_told_to_use_tus(author_user, draft):
    uploaded = SimpleUploadedFile("big.mp4", MP4_HEAD)
    uploaded.size = 65 << 20  # only the size is looked at before refusing
    with pytest.raises(UploadTooLargeError, match="tus"):
        receive_whole_file(author_user, draft.id, uploaded)
    assert not DraftFile.objects.exists()


def test_authors_edit_the_files_and_reorder_them(author_user, draft):
    names = ["a.pdf", "b.pdf", "c.pdf"]
    items = [start_upload(author_user, draft.id, filename=name, size=10) for name in names]
    changed = update_file(author_user, draft.id, items[2].id, {
        "description": "Third", "topic": "Halves", "name": "C/ Chapter 3.pdf", "position": 0})
    assert (changed.description, changed.topic, changed.name, changed.position) == (
        "Third", "Halves", "Chapter 3.pdf", 0)
    assert [item.name for item in draft.files.all()] == ["Chapter 3.pdf", "a.pdf", "b.pdf"]
    update_file(author_user, draft.id, items[0].id, {"position": 99})
    assert [item.name for item in draft.files.all()] == ["Chapter 3.pdf", "b.pdf", "a.pdf"]
    with pytest.raises(InvalidDraftError) as raised:
        update_file(author_user, draft.id, items[0].id, {"size": 5, "position": -1})
    assert set(raised.value.errors) == {"size"}
    with pytest.raises(InvalidDraftError):
        update_file(author_user, draft.id, items[0].id, {"position": -1})


def test_only_open_drafts_of_ones_own_change(author_user, admin_user, learner_user,
                                             django_user_model, draft):
    other_author = django_user_model.objects.create_user("erin", role="author")
    item = start_upload(author_user, draft.id, filename="a.pdf", size=10)
    for user in (other_author, learner_user):
        with pytest.raises(DraftNotFoundError):
            start_upload(user, draft.id, filename="a.pdf", size=10)
        with pytest.raises(DraftNotFoundError):
            send(user, draft, item, 0, PDF[:10])
        with pytest.raises(DraftNotFoundError):
            remove_file(user, draft.id, item.id)
    # An admin may (admins see all drafts).
    assert update_file(admin_user, draft.id, item.id, {"description": "ok"}).description == "ok"
    Draft.objects.filter(id=draft.id).update(state=Draft.State.PUBLISHED, published_version=1)
    with pytest.raises(DraftNotEditableError):
        send(author_user, draft, item, 0, PDF[:10])
    with pytest.raises(DraftNotEditableError):
        start_upload(author_user, draft.id, filename="b.pdf", size=10)
    with pytest.raises(DraftNotEditableError):
        remove_file(author_user, draft.id, item.id)
