"""What a backup chooses, read from real rows (the same SQL runs on the snapshot), and the
archive's member names."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection

from authoring.models import Draft, DraftFile, UploadRecord
from authoring.uploads_area import uploads_dir
from channels.models import ChannelVersion
from learning.certificates import store_certificate_pdf
from learning.models import Certificate, CourseCompletion
from operations.archive import CorruptArchiveError, classify_member
from operations.backup import plan_backup
from storage.files import put_file
from tests.authoring.factories import PDF, PNG, stored_draft_file

pytestmark = pytest.mark.django_db


def snapshot_rows(sql: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()


@pytest.fixture
def school(make_channel, author_user, learner_user):
    """An authored channel, an imported one, an open draft with an upload in flight, a
    published draft, and a learner's ready certificate."""
    authored = make_channel("authored")
    imported = make_channel("imported")
    ChannelVersion.objects.filter(channel_id=imported.channel_id).update(source="disk /media/usb")
    draft = Draft.objects.create(owner=author_user, name="Next course")
    video = stored_draft_file(draft, b"video bytes", "clip.mp4", file_type="video",
                              outputs={"webm": put_file(b"webm bytes", "webm").checksum,
                                       "png": put_file(PNG, "png").checksum, "duration": 3.0})
    uploading = DraftFile.objects.create(draft=draft, name="big.pdf", file_type="document",
                                         extension="pdf", size=100, received=10,
                                         state=DraftFile.State.UPLOADING)
    partial_name = f"{uuid.uuid4().hex}.part"
    uploads_dir().mkdir(parents=True, exist_ok=True)
    (uploads_dir() / partial_name).write_bytes(b"0123456789")
    UploadRecord.objects.create(draft_file=uploading, partial_name=partial_name, extension="pdf")
    UploadRecord.objects.create(draft_file=video, partial_name="done.part", extension="mp4",
                                completed_at="2026-01-01T00:00:00Z")
    published = Draft.objects.create(owner=author_user, name="Old", state=Draft.State.PUBLISHED)
    old_file = stored_draft_file(published, PDF, "old.pdf", file_type="document")
    completion = CourseCompletion.objects.create(user=learner_user,
                                                 channel_id=authored.channel_id, version=1)
    certificate = Certificate.objects.create(
        user=learner_user, completion=completion, channel_id=authored.channel_id,
        course_name="Authored", version=1, learner_name="charlie", server_name="school",
        code="CODE1234")
    checksum, size, pdf_path = store_certificate_pdf(str(certificate.id), b"%PDF certificate")
    Certificate.objects.filter(pk=certificate.pk).update(state="ready", checksum=checksum,
                                                         size=size)
    return {"authored": authored, "imported": imported, "video": video,
            "partial_name": partial_name, "old_file": old_file, "pdf_path": pdf_path}


def version_files(channel_id: str) -> set[str]:
    from channels.models import ChannelVersionFile

    return set(ChannelVersionFile.objects.filter(version__channel_id=channel_id)
               .values_list("checksum", flat=True))


def test_it_keeps_authored_channels_drafts_uploads_and_certificates(school):
    plan = plan_backup(snapshot_rows, include_imported=False)
    members = {member for member, _path in plan.files}
    stored = {member.rsplit("/", 1)[1].split(".")[0] for member, _path in plan.stored}
    authored, imported = school["authored"].channel_id, school["imported"].channel_id
    assert f"versions/{authored}/1.sqlite3" in members
    assert not any(member.startswith(f"versions/{imported}") for member in members)
    assert version_files(authored) <= stored
    assert not (version_files(imported) - version_files(authored)) & stored
    video = school["video"]
    assert {video.checksum, video.outputs["webm"], video.outputs["png"]} <= stored
    assert school["old_file"].checksum not in stored  # a published draft keeps nothing
    assert f"uploads/{school['partial_name']}" in members
    assert "uploads/done.part" not in members
    assert f"certificates/{school['pdf_path'].name}" in members
    assert [channel["id"] for channel in plan.channels] == [authored]
    for _member, path in plan.files + plan.stored:
        assert path.is_file(), path


def test_all_adds_imported_channels_and_their_files(school):
    plan = plan_backup(snapshot_rows, include_imported=True)
    members = {member for member, _path in plan.files}
    stored = {member.rsplit("/", 1)[1].split(".")[0] for member, _path in plan.stored}
    imported = school["imported"].channel_id
    assert f"versions/{imported}/1.sqlite3" in members
    assert version_files(imported) <= stored
    summary = {channel["id"]: channel for channel in plan.channels}
    assert summary[imported]["authored_versions"] == []
    assert summary[school["authored"].channel_id]["authored_versions"] == [1]


@pytest.mark.parametrize("name", [
    "../etc/passwd", "/etc/passwd", "database/../../x", "storage/0/0/" + "a" * 32 + ".pdf",
    "storage/a/a/" + "a" * 32 + ".pdf/", "versions/" + "a" * 32 + "/1.sqlite3\n",
    "versions/" + "A" * 32 + "/1.sqlite3", "uploads/.hidden", "uploads/a/b",
    "certificates/x.pdf", "manifest.json.bak",
])
def test_names_outside_the_format_are_refused(name):
    with pytest.raises(CorruptArchiveError):
        classify_member(name)


def test_names_of_the_format_are_understood():
    checksum = "ab" + "0" * 30
    assert classify_member(f"storage/a/b/{checksum}.mp4") == ("stored", (checksum, "mp4"))
    assert classify_member("database/default.pgdump") == ("database", ("postgresql",))
    assert classify_member(f"versions/{checksum}/12.sqlite3") == ("version", (checksum, "12"))
