"""A video that makes ffmpeg allocate more than its memory limit: the encode ends in Error
with the reason, and the same worker goes on to encode the next upload (real ffmpeg, Huey's
immediate mode)."""

from __future__ import annotations

import pytest

from authoring.encoding import start_encode
from authoring.models import Draft, DraftFile
from media.ffmpeg import build_test_video_args, file_url, run_ffmpeg
from tests.authoring.factories import stored_draft_file

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def every_progress_written(settings) -> None:
    settings.JOBS = {"PROGRESS_WRITE_SECONDS": 0}


def upload(owner, name: str, data: bytes) -> DraftFile:
    draft = Draft.objects.create(owner=owner, name=name)
    return stored_draft_file(draft, data, name, file_type="video",
                             state=DraftFile.State.PROCESSING)


def test_a_video_too_big_to_decode_ends_in_error_and_the_next_upload_is_encoded(
        author_user, settings, tmp_path, django_capture_on_commit_callbacks):
    # 3 MB on disk, one 16000x16000 frame: 768 MB once decoded, over the 1 GiB limit with
    # the scaler's copies. A normal 1 s clip encodes well within the same limit.
    huge = tmp_path / "huge.mkv"
    run_ffmpeg(["-v", "error", "-f", "lavfi", "-i", "color=c=red:size=16000x16000:rate=1",
                "-frames:v", "1", "-c:v", "png", "-compression_level", "1", "-pred", "none",
                "-pix_fmt", "rgb24", file_url(huge)], timeout=120)
    clip = tmp_path / "clip.mp4"
    run_ffmpeg(build_test_video_args(clip, container="mp4", duration=1, width=160, height=90),
               timeout=60)
    settings.MEDIA_MEMORY_LIMIT = 1024**3
    poison = upload(author_user, "huge.mkv", huge.read_bytes())
    good = upload(author_user, "lesson.mp4", clip.read_bytes())
    with django_capture_on_commit_callbacks(execute=False) as enqueues:
        start_encode(poison)
        start_encode(good)
    for enqueue in enqueues:  # in queue order: the poison first
        enqueue()

    poison.refresh_from_db()
    good.refresh_from_db()
    assert poison.state == DraftFile.State.ERROR
    assert "memory" in poison.error and "MEDIA_MEMORY_LIMIT" in poison.error
    assert poison.job is not None and poison.job.state == "failed"
    assert good.state == DraftFile.State.FINISHED
