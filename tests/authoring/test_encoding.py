"""Background encoding of uploaded videos, run through the jobs service in Huey's immediate
mode with real ffmpeg on 1 s clips: the outputs land in the store and on every draft file with
those bytes; bad media, cancels and orphaned outputs end cleanly."""

from __future__ import annotations

from pathlib import Path

import pytest

import authoring.encoding as encoding
from authoring.cancel import cancel_draft
from authoring.encoding import (
    FINAL_STAGE,
    KIND,
    clean_encode,
    settle_abandoned_encodes,
    start_encode,
    time_limit_seconds,
)
from authoring.models import Draft, DraftFile
from authoring.serializers import effective_state
from jobs.errors import InvalidJobParamsError, JobPermissionError
from jobs.models import Job
from jobs.services import start_job
from media.ffmpeg import build_test_video_args, probe_media, run_ffmpeg
from storage.gc import walk_storage
from storage.paths import storage_path
from tests.authoring.factories import stored_draft_file

pytestmark = pytest.mark.django_db
FORMATS = ("mp4", "webm", "ogv", "png")


@pytest.fixture(autouse=True)
def every_progress_written(settings) -> None:
    settings.JOBS = {"PROGRESS_WRITE_SECONDS": 0}


@pytest.fixture(scope="module")
def clip_bytes(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("clips") / "lesson.mp4"
    run_ffmpeg(build_test_video_args(path, container="mp4", duration=1, width=160, height=90),
               timeout=60)
    return path.read_bytes()


@pytest.fixture
def draft(author_user) -> Draft:
    return Draft.objects.create(owner=author_user, name="Physics")


def video(draft: Draft, data: bytes, name: str = "lesson.mp4") -> DraftFile:
    return stored_draft_file(draft, data, name, file_type="video",
                             state=DraftFile.State.PROCESSING)


def encode(item: DraftFile, on_commit) -> Job:
    """What the upload code does once the bytes are stored; the job runs at the commit."""
    with on_commit(execute=True):
        start_encode(item)
    item.refresh_from_db()
    assert item.job is not None
    return Job.objects.get(id=item.job_id)


def test_a_video_is_encoded_into_three_formats_and_a_thumbnail(
        draft, clip_bytes, django_capture_on_commit_callbacks, author_user):
    item = video(draft, clip_bytes)
    job = encode(item, django_capture_on_commit_callbacks)

    assert job.state == Job.State.DONE, job.error
    assert (job.kind, job.created_by_id, job.progress) == (KIND, author_user.id, 100)
    assert job.stages["encode"][0] == job.stages["encode"][1] > 0
    item.refresh_from_db()
    assert (item.state, item.progress, item.error) == (DraftFile.State.FINISHED, 100, "")
    assert set(item.outputs) == {*FORMATS, "duration"}
    assert 0.9 < item.outputs["duration"] < 1.2
    for extension in FORMATS:
        assert storage_path(item.outputs[extension], extension).is_file(), extension
    codecs = probe_media(storage_path(item.outputs["ogv"], "ogv")).codecs("video")
    assert codecs == ["theora"]
    assert effective_state(item) == (DraftFile.State.FINISHED, 100, "")
    # The encode's scratch folder is gone.
    assert list(Path(encoding.temp_root()).glob("encode-*")) == []


def test_files_with_the_same_bytes_share_one_encode(
        author_user, clip_bytes, django_capture_on_commit_callbacks):
    first = video(Draft.objects.create(owner=author_user, name="A"), clip_bytes)
    second = video(Draft.objects.create(owner=author_user, name="B"), clip_bytes, "copy.mp4")
    with django_capture_on_commit_callbacks(execute=False) as enqueues:
        start_encode(first)
        start_encode(second)
    assert len(enqueues) == 1
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.job_id == second.job_id is not None
    assert Job.objects.filter(kind=KIND).count() == 1

    for enqueue in enqueues:
        enqueue()
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.state == second.state == DraftFile.State.FINISHED
    assert first.outputs == second.outputs


def test_a_job_already_saving_is_not_joined(draft, clip_bytes,
                                            django_capture_on_commit_callbacks):
    item = video(draft, clip_bytes)
    saving = Job.objects.create(kind=KIND, state=Job.State.RUNNING, stage=FINAL_STAGE,
                                params={"checksum": item.checksum, "extension": "mp4"})
    with django_capture_on_commit_callbacks(execute=False) as enqueues:
        start_encode(item)
    item.refresh_from_db()
    assert len(enqueues) == 1 and item.job_id not in (None, saving.id)


def test_a_file_that_is_not_a_video_ends_in_error_with_ffmpegs_reason(
        draft, django_capture_on_commit_callbacks, content_dir):
    item = video(draft, b"Lesson notes typed into a file named like a video.\n" * 50,
                 "notes.mp4")
    job = encode(item, django_capture_on_commit_callbacks)

    assert job.state == Job.State.FAILED
    assert "Invalid data found when processing input" in job.error
    item.refresh_from_db()
    assert item.state == DraftFile.State.ERROR
    assert item.error.startswith("This video could not be encoded: ")
    assert "Invalid data found when processing input" in item.error
    assert str(content_dir) not in item.error  # no server paths shown to the author
    assert effective_state(item)[0] == DraftFile.State.ERROR


def test_an_audio_file_named_like_a_video_has_no_video_stream(
        draft, django_capture_on_commit_callbacks, tmp_path):
    tone = tmp_path / "tone.mkv"
    run_ffmpeg(["-v", "error", "-f", "lavfi", "-i", "sine=duration=1", "-c:a", "libvorbis",
                "file:" + str(tone)], timeout=60)
    item = video(draft, tone.read_bytes(), "tone.mkv")
    job = encode(item, django_capture_on_commit_callbacks)
    assert job.state == Job.State.FAILED
    item.refresh_from_db()
    assert "no video stream" in item.error and "vorbis" in item.error


def test_the_queue_keeps_flowing_after_a_poison_video(
        author_user, clip_bytes, django_capture_on_commit_callbacks):
    poison = video(Draft.objects.create(owner=author_user, name="P"), b"\x00" * 4096, "bad.mp4")
    good = video(Draft.objects.create(owner=author_user, name="G"), clip_bytes)
    with django_capture_on_commit_callbacks(execute=False) as enqueues:
        start_encode(poison)
        start_encode(good)
    for enqueue in enqueues:  # in queue order: the poison first
        enqueue()
    poison.refresh_from_db()
    good.refresh_from_db()
    assert (poison.state, good.state) == (DraftFile.State.ERROR, DraftFile.State.FINISHED)


def test_outputs_of_a_video_whose_draft_went_away_are_deleted(
        draft, clip_bytes, django_capture_on_commit_callbacks, monkeypatch):
    item = video(draft, clip_bytes)
    real_run_ffmpeg = encoding.run_ffmpeg

    def draft_deleted_during_the_thumbnail(args, **kwargs):
        Draft.objects.filter(id=draft.id).delete()
        return real_run_ffmpeg(args, **kwargs)

    monkeypatch.setattr(encoding, "run_ffmpeg", draft_deleted_during_the_thumbnail)
    with django_capture_on_commit_callbacks(execute=True):
        start_encode(item)
    job = Job.objects.get(kind=KIND)

    assert job.state == Job.State.DONE, job.error
    assert job.result["files"] == 0 and len(job.result["deleted"]) == len(FORMATS)
    for extension in FORMATS:
        assert not storage_path(job.result["outputs"][extension], extension).exists()


def test_cancelling_the_draft_stops_the_encode_and_stores_nothing(
        draft, author_user, clip_bytes, django_capture_on_commit_callbacks, monkeypatch):
    item = video(draft, clip_bytes)
    real_build = encoding.build_encode_args

    def cancel_before_webm(source, output, *, target, has_audio=True):
        if target == "webm":
            cancel_draft(author_user, draft.id)  # what DELETE /api/drafts/<id>/ does
        return real_build(source, output, target=target, has_audio=has_audio)

    monkeypatch.setattr(encoding, "build_encode_args", cancel_before_webm)
    with django_capture_on_commit_callbacks(execute=True):
        start_encode(item)
    job = Job.objects.get(kind=KIND)

    assert job.state == Job.State.CANCELLED
    entries, _ = walk_storage()
    assert entries == []  # neither the source (cancel freed it) nor any output
    assert list(Path(encoding.temp_root()).glob("encode-*")) == []


def test_files_of_an_encode_the_reaper_gave_up_on_are_settled_as_error(
        draft, clip_bytes, django_capture_on_commit_callbacks):
    item = video(draft, clip_bytes)
    with django_capture_on_commit_callbacks(execute=False):
        start_encode(item)  # queued, never run: its worker keeps being killed
    item.refresh_from_db()
    given_up = "The worker running this task stopped without finishing, 3 times."
    Job.objects.filter(id=item.job_id).update(state=Job.State.FAILED, error=given_up)
    later = video(Draft.objects.create(owner=draft.owner, name="Later"), clip_bytes, "b.mp4")

    assert settle_abandoned_encodes() == [str(item.id)]
    item.refresh_from_db()
    later.refresh_from_db()
    assert (item.state, item.error) == (DraftFile.State.ERROR, given_up)
    assert later.state == DraftFile.State.PROCESSING  # no job yet: not abandoned
    assert settle_abandoned_encodes() == []


def test_an_encode_past_its_time_limit_ends_in_error(
        draft, clip_bytes, django_capture_on_commit_callbacks, settings):
    settings.ENCODE_TIMEOUT_SECONDS = 1e-6
    item = video(draft, clip_bytes)
    job = encode(item, django_capture_on_commit_callbacks)
    assert job.state == Job.State.FAILED
    item.refresh_from_db()
    assert item.state == DraftFile.State.ERROR and "time limit" in item.error


def test_the_time_limit_is_ten_times_the_duration_within_the_setting(settings):
    settings.ENCODE_TIMEOUT_SECONDS = 6 * 3600
    assert time_limit_seconds(3.0) == 600.0  # at least ten minutes
    assert time_limit_seconds(1200.0) == 12000.0
    assert time_limit_seconds(7200.0) == 6 * 3600  # the setting caps it
    settings.ENCODE_TIMEOUT_SECONDS = 42
    assert time_limit_seconds(3.0) == 42.0
    del settings.ENCODE_TIMEOUT_SECONDS
    assert time_limit_seconds(7200.0) == 72000.0


@pytest.mark.parametrize("raw", [
    {"checksum": "A" * 32, "extension": "mp4"},
    {"checksum": "a" * 31 + "\n", "extension": "mp4"},
    {"checksum": " " + "a" * 31, "extension": "mp4"},
    {"checksum": "0x" + "a" * 30, "extension": "mp4"},
    {"checksum": "a" * 32, "extension": "pdf"},
    {"checksum": "a" * 32, "extension": "MP4"},
    {"checksum": "a" * 32, "extension": "mp4", "path": "/etc/passwd"},
])
def test_it_rejects_bad_parameters(raw):
    with pytest.raises(InvalidJobParamsError):
        clean_encode(raw)


def test_only_admins_may_start_an_encode_over_the_tasks_api(author_user):
    with pytest.raises(JobPermissionError):
        start_job(author_user, {"kind": KIND, "checksum": "a" * 32, "extension": "mp4"})
