"""Cancel frees a draft's files at once (only those nobody else uses); the hourly collector
removes planted zombies and nothing else."""

from __future__ import annotations

import os
import time
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from authoring.collector import collect_upload_zombies
from authoring.models import Draft, DraftFile, UploadRecord
from authoring.uploads_area import partial_path, uploads_dir
from jobs.models import Job
from storage.files import put_file
from storage.paths import storage_path
from tests.authoring.factories import PDF, stored_draft_file

pytestmark = pytest.mark.django_db
DAY = 24 * 60 * 60


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_cancel_deletes_the_draft_and_the_files_only_it_used(author_user, make_channel):
    draft = Draft.objects.create(owner=author_user, name="Doomed")
    other = Draft.objects.create(owner=author_user, name="Kept")
    only_mine = stored_draft_file(draft, PDF + b"mine", "mine.pdf", file_type="document")
    shared = stored_draft_file(draft, PDF + b"shared", "shared.pdf", file_type="document")
    stored_draft_file(other, PDF + b"shared", "shared.pdf", file_type="document")
    channel = make_channel("maths")
    in_channel = channel_file_checksum(channel)
    reused = stored_draft_file(draft, storage_path(*in_channel).read_bytes(),
                               f"reused.{in_channel[1]}", file_type="document")
    job = Job.objects.create(kind="encode", params={"checksum": only_mine.checksum})
    DraftFile.objects.filter(id=only_mine.id).update(job=job)

    assert api(author_user).delete(f"/api/drafts/{draft.id}/").status_code == 204

    assert not Draft.objects.filter(id=draft.id).exists()
    assert not storage_path(only_mine.checksum, "pdf").exists()
    assert storage_path(shared.checksum, "pdf").exists()
    assert storage_path(reused.checksum, reused.extension).exists()
    job.refresh_from_db()
    assert job.state == Job.State.CANCELLED


def channel_file_checksum(channel) -> tuple[str, str]:
    from channels.models import ChannelVersionFile

    row = ChannelVersionFile.objects.filter(version__channel_id=channel.channel_id).first()
    return row.checksum, row.extension


def age(record: UploadRecord, seconds: int) -> None:
    UploadRecord.objects.filter(id=record.id).update(
        updated_at=timezone.now() - timedelta(seconds=seconds))


def planted_partial(name: str, *, seconds_old: int) -> str:
    folder = uploads_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(b"half an upload")
    stamp = time.time() - seconds_old
    os.utime(path, (stamp, stamp))
    return name


def test_the_collector_removes_zombies_and_nothing_else(author_user):
    live = Draft.objects.create(owner=author_user, name="Live")
    uploading = DraftFile.objects.create(draft=live, name="big.mp4", file_type="video",
                                         extension="mp4", size=10_000, received=14)
    stalled = UploadRecord.objects.create(draft_file=uploading, partial_name="stalled.part",
                                          extension="mp4")
    planted_partial("stalled.part", seconds_old=3 * DAY)
    age(stalled, 3 * DAY)
    finished = stored_draft_file(live, PDF + b"live", "live.pdf", file_type="document")
    kept_record = UploadRecord.objects.create(draft_file=finished, partial_name="live.part",
                                              extension="pdf", checksum=finished.checksum)
    age(kept_record, 3 * DAY)

    zombie_bytes = put_file(PDF + b"zombie", "pdf")
    zombie = UploadRecord.objects.create(partial_name="zombie.part", extension="pdf",
                                         checksum=zombie_bytes.checksum)
    planted_partial("zombie.part", seconds_old=3 * DAY)
    age(zombie, 3 * DAY)
    young_orphan = UploadRecord.objects.create(partial_name="young.part", extension="pdf")
    planted_partial("young.part", seconds_old=60)
    planted_partial("stray-old.part", seconds_old=3 * DAY)
    planted_partial("stray-young.part", seconds_old=60)

    report = collect_upload_zombies(grace=DAY)

    assert report.orphaned_entries == 1 and report.stray_partials == ["stray-old.part"]
    assert not UploadRecord.objects.filter(id=zombie.id).exists()
    assert not (uploads_dir() / "zombie.part").exists()
    assert not storage_path(zombie_bytes.checksum, "pdf").exists()
    # Everything a live draft uses, and everything young, stays.
    assert partial_path(stalled).exists() and UploadRecord.objects.filter(id=stalled.id).exists()
    assert UploadRecord.objects.filter(id=kept_record.id).exists()
    assert storage_path(finished.checksum, "pdf").exists()
    assert UploadRecord.objects.filter(id=young_orphan.id).exists()
    assert (uploads_dir() / "young.part").exists()
    assert (uploads_dir() / "stray-young.part").exists()


def test_the_collector_keeps_stored_bytes_another_draft_uses(author_user):
    other = Draft.objects.create(owner=author_user, name="Other")
    shared = stored_draft_file(other, PDF + b"shared", "shared.pdf", file_type="document")
    zombie = UploadRecord.objects.create(partial_name="z.part", extension="pdf",
                                         checksum=shared.checksum)
    age(zombie, 3 * DAY)
    collect_upload_zombies(grace=DAY)
    assert not UploadRecord.objects.filter(id=zombie.id).exists()
    assert storage_path(shared.checksum, "pdf").exists()


def test_the_collectuploads_command_reports_what_it_removed(author_user, capsys):
    from django.core.management import call_command

    zombie = UploadRecord.objects.create(partial_name="z.part", extension="pdf")
    age(zombie, 3 * DAY)
    call_command("collectuploads", "--grace", "3600")
    assert "Removed 1 orphaned upload(s)" in capsys.readouterr().out
    assert not UploadRecord.objects.exists()


def test_the_collector_marks_videos_whose_encode_was_given_up_as_errors(author_user):
    draft = Draft.objects.create(owner=author_user, name="Videos")
    video = stored_draft_file(draft, b"raw video", "lesson.mov", file_type="video",
                              state=DraftFile.State.PROCESSING)
    job = Job.objects.create(kind="encode", state=Job.State.FAILED,
                             error="The worker running this task stopped without finishing")
    DraftFile.objects.filter(id=video.id).update(job=job)
    assert collect_upload_zombies(grace=DAY).failed_encodes == 1
    video.refresh_from_db()
    assert video.state == DraftFile.State.ERROR and "stopped" in video.error


def test_collectuploads_says_so_and_exits_7_when_the_store_is_busy(author_user, monkeypatch):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    from storage.gc import StorageBusyError

    def busy(checksums, **kwargs):
        raise StorageBusyError("a collection is running")

    monkeypatch.setattr("authoring.cancel.delete_if_unreferenced", busy)
    zombie = UploadRecord.objects.create(partial_name="z.part", extension="pdf",
                                         checksum=put_file(PDF + b"busy", "pdf").checksum)
    age(zombie, 3 * DAY)
    with pytest.raises(CommandError) as raised:
        call_command("collectuploads")
    assert raised.value.returncode == 7 and "busy" in str(raised.value)
    # Kept for the next run, with its bytes.
    assert UploadRecord.objects.filter(id=zombie.id).exists()
