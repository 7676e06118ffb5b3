"""The encode job (a real Huey consumer and real ffmpeg) meeting a full (ENOSPC) or failing
(EIO) disk while it stores its outputs (injected by tests/faults/inject into the consumer):
the job fails, the video shows Error with a sentence for the author (no server path), the
scratch folder and temp files are gone, the uploaded source is kept, `checkinvariants` is
clean, and encoding it again without the fault ends Finished with every output.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.faults.homes import FaultHome

pytestmark = pytest.mark.server

WAIT_SECONDS = 120
CONSUMER = ("import os, django; os.environ.setdefault('DJANGO_SETTINGS_MODULE', "
            "'kolibri_like.settings'); django.setup(); import authoring.encoding; "
            "from django.core.management import call_command; call_command('run_huey')")

# The stored video in the draft, its encode started as the upload code does.
START_ENCODE = """
import json
from pathlib import Path
from authoring.encoding import start_encode
from authoring.models import Draft
from tests.authoring.factories import stored_draft_file
item = stored_draft_file(Draft.objects.get(name="Fractions"), Path(%r), "lesson.mp4",
                         file_type="video", state="Processing")
start_encode(item)
item.refresh_from_db()
print(json.dumps({"file": item.id.hex, "job": item.job_id.hex, "checksum": item.checksum}))
"""

# What an upload of the same video does again: a new encode of the same bytes.
ENCODE_AGAIN = """
import json
from authoring.encoding import start_encode
from authoring.models import DraftFile
item = DraftFile.objects.get(id=%r)
start_encode(item)
item.refresh_from_db()
print(json.dumps(item.job_id.hex))
"""


@pytest.fixture(scope="module")
def video(tmp_path_factory) -> Path:
    from media.ffmpeg import build_test_video_args, run_ffmpeg

    path = tmp_path_factory.mktemp("video") / "lesson.mp4"
    run_ffmpeg(build_test_video_args(path, container="mp4", duration=1.0, width=96, height=64,
                                     hue_degrees=0), timeout=120)
    return path


def encode_until_ended(home: FaultHome, job: str, env: dict[str, str]) -> str:
    """Run a consumer until the job has ended; its state."""
    log = home.home / "consumer.log"
    with open(log, "ab") as output:
        process = subprocess.Popen([sys.executable, "-c", CONSUMER], env=env, stdout=output,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            assert process.poll() is None, log.read_text(errors="replace")[-4000:]
            (state,), = home.rows(f"SELECT state FROM jobs_job WHERE id = '{job}'")
            if state in ("done", "failed", "cancelled"):
                return str(state)
            time.sleep(0.2)
        raise AssertionError(f"the job did not end in {WAIT_SECONDS}s:\n"
                             f"{log.read_text(errors='replace')[-4000:]}")
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


@pytest.mark.parametrize("error, says, again", [
    ("ENOSPC", "disk is full", True),
    ("EIO", "could not write", False),
])
def test_an_encode_meeting(error, says, again, copy_home, video):
    home = copy_home("drafted")
    started = home.shell(START_ENCODE % str(video))
    # The second output's copy into the store: one is stored, the rest not.
    failed = encode_until_ended(home, started["job"],
                                home.fault_env(f"write:2:{error}:{home.content_dir}/tmp/"))
    assert failed == "failed" and home.injected()
    (state, message), = home.rows("SELECT state, error FROM authoring_draftfile "
                                  f"WHERE id = '{started['file']}'")
    assert state == "Error" and says in message, message
    assert str(home.content_dir) not in message and "Errno" not in message, message
    (job_error,), = home.rows(f"SELECT error FROM jobs_job WHERE id = '{started['job']}'")
    assert says in job_error, job_error
    assert home.temp_leftovers() == []
    assert home.stored_path(started["checksum"], "mp4").is_file()
    home.check()
    if not again:
        return  # the same as after ENOSPC from here on; once is enough for the suite's time

    job = home.shell(ENCODE_AGAIN % started["file"])
    assert encode_until_ended(home, job, home.env) == "done"
    (state, outputs), = home.rows("SELECT state, outputs FROM authoring_draftfile "
                                  f"WHERE id = '{started['file']}'")
    outputs = json.loads(outputs) if isinstance(outputs, str) else dict(outputs)  # PostgreSQL
    assert state == "Finished" and len(outputs) == 5, outputs  # 3 videos, thumbnail, duration
    home.run("checkinvariants", "--full")


def test_ffmpeg_finding_the_disk_full_is_not_blamed_on_the_video(tmp_path):
    from authoring.encoding import EncodeStorageError, _as_encode_error
    from media.ffmpeg import FFmpegError, build_test_video_args, run_ffmpeg

    # /dev/full answers every write with ENOSPC: ffmpeg's own output meets a full disk.
    with pytest.raises(FFmpegError) as raised:
        run_ffmpeg(build_test_video_args(Path("/dev/full"), container="mp4", duration=0.5,
                                         width=32, height=32, hue_degrees=0), timeout=120)
    told = _as_encode_error(raised.value, tmp_path / "source.mp4")
    assert isinstance(told, EncodeStorageError) and told.exit_code == 5
    assert "disk is full" in str(told)
