"""Encodes in a REAL Huey consumer process, with real ffmpeg, where crashes show up: a video
and a poison file go through the queue; a consumer killed (SIGKILL) mid-encode leaves the job
to the reaper, and the next consumer finishes it, or, with no attempts left, the file shows
Error. Nothing here waits without a bound.

The server's home is migrated once for the module; each test makes its own drafts in it
(through `kolibri-like shell`, in the server's database) and starts its own consumers.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable

import pytest

from media.ffmpeg import build_test_video_args, run_ffmpeg
from tests.servers import ServerProcess

pytestmark = pytest.mark.server
WAIT_SECONDS = 90
POLL_SECONDS = 0.1
ENDED = ("done", "failed", "cancelled")

# A consumer as `kolibri-like start` runs it (run_huey), with the encode kind registered.
# (Once authoring's AppConfig.ready imports authoring.encoding, the import here is a no-op.)
CONSUMER = ("import os, django; os.environ.setdefault('DJANGO_SETTINGS_MODULE', "
            "'kolibri_like.settings'); django.setup(); import authoring.encoding; "
            "from django.core.management import call_command; call_command('run_huey')")

# Store each clip, make a draft with it as a video and start its encode, as the upload code
# does; `attempts` pretends that many deliveries were already killed.
CREATE_DRAFTS = """
import json
from django.contrib.auth import get_user_model
from authoring.encoding import start_encode
from authoring.models import Draft, DraftFile
from jobs.models import Job
from storage.files import put_file
owner = get_user_model().objects.filter(username="bob").first() or \\
    get_user_model().objects.create_user("bob", password="bob-pass", role="author")
made = {}
for name, path, attempts in json.loads(%r):
    stored = put_file(open(path, "rb"), "mp4")
    draft = Draft.objects.create(owner=owner, name=name)
    item = DraftFile.objects.create(
        draft=draft, name=name + ".mp4", file_type="video", extension="mp4", size=stored.size,
        received=stored.size, checksum=stored.checksum, state="Processing")
    start_encode(item)
    item.refresh_from_db()
    Job.objects.filter(id=item.job_id).update(attempts=attempts)
    made[name] = {"file": str(item.id), "job": str(item.job_id)}
print(json.dumps(made))
"""

# What the every-minute reaper does, as if its stale limit (90 s) had passed.
REAP_LATER = """
import json
from datetime import timedelta
from django.utils import timezone
from jobs.services import reap_stale_jobs
print(json.dumps(reap_stale_jobs(now=timezone.now() + timedelta(seconds=600)).as_dict()))
"""

# What the author sees for each file (the API's state), before and after the hourly
# settling writes it onto the rows.
AUTHOR_VIEW = """
import json
from authoring.encoding import settle_abandoned_encodes
from authoring.models import DraftFile
from authoring.serializers import effective_state
shown = {str(item.id): effective_state(item) for item in DraftFile.objects.select_related("job")}
settled = settle_abandoned_encodes()
stored = {str(item.id): [item.state, item.error] for item in DraftFile.objects.all()}
print(json.dumps({"shown": shown, "settled": settled, "stored": stored}))
"""


class ServerDatabase:
    """Read-only peeks at the server's database while its processes run (polling through
    `kolibri-like shell` would cost seconds per look)."""

    def __init__(self, environment: ServerProcess) -> None:
        self.url = environment.env.get("DATABASE_URL", "")
        self.sqlite_path = environment.home / "db.sqlite3"

    def rows(self, table: str, columns: str) -> list[dict[str, Any]]:
        query = f"SELECT {columns} FROM {table}"  # noqa: S608 - fixed names from this module
        if self.url.startswith(("postgres://", "postgresql://")):
            import psycopg
            from psycopg.rows import dict_row

            with psycopg.connect(self.url, row_factory=dict_row) as connection:
                return list(connection.execute(query))
        with sqlite3.connect(f"file:{self.sqlite_path}?mode=ro", uri=True,
                             timeout=10) as connection:
            connection.row_factory = sqlite3.Row
            return [dict(row) for row in connection.execute(query)]

    def job(self, job_id: str) -> dict[str, Any]:
        return _by_id(self.rows("jobs_job", "id, state, stage, progress, attempts, error"),
                      job_id)

    def draft_file(self, file_id: str) -> dict[str, Any]:
        found = _by_id(self.rows("authoring_draftfile", "id, state, error, outputs"), file_id)
        if isinstance(found["outputs"], str):
            found["outputs"] = json.loads(found["outputs"])
        return found


def _by_id(rows: list[dict[str, Any]], wanted: str) -> dict[str, Any]:
    # SQLite keeps UUIDs as 32 hex digits, PostgreSQL as uuid.
    return next(row for row in rows if uuid.UUID(str(row["id"])) == uuid.UUID(wanted))


def shell(environment: ServerProcess, code: str) -> Any:
    result = environment.run_command("shell", "-c", code, timeout=120)
    return json.loads(result.stdout.strip().splitlines()[-1])


def wait_until(condition: Callable[[], Any], what: str, consumer_log: Path) -> Any:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(POLL_SECONDS)
    raise AssertionError(f"{what}: not within {WAIT_SECONDS}s; consumer log:\n"
                         f"{consumer_log.read_text(errors='replace')[-4000:]}")


class Consumer:
    """A consumer process in its own session, so a SIGKILL takes its ffmpeg children too."""

    def __init__(self, environment: ServerProcess, name: str) -> None:
        self.log_path = environment.home / f"consumer-{name}.log"
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen([sys.executable, "-c", CONSUMER], env=environment.env,
                                        stdout=self._log, stderr=subprocess.STDOUT,
                                        start_new_session=True)

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, sig)
            self.process.wait(timeout=30)
        self._log.close()

    def stop(self) -> None:
        self.kill(signal.SIGTERM)


@pytest.fixture(scope="module")
def environment(tmp_path_factory) -> Iterator[ServerProcess]:
    server = ServerProcess(tmp_path_factory.mktemp("encode-server"))
    server.home.mkdir(parents=True, exist_ok=True)
    server.run_command("migrate", "--noinput")
    yield server
    server.drop_database()


def clip(path: Path, *, seconds: float, hue: int, width: int = 160,
         height: int = 90) -> str:
    run_ffmpeg(build_test_video_args(path, container="mp4", duration=seconds, width=width,
                                     height=height, hue_degrees=hue), timeout=120)
    return str(path)


def stored(environment: ServerProcess, checksum: str, extension: str) -> Path:
    return environment.content_dir / "storage" / checksum[0] / checksum[1] / \
        f"{checksum}.{extension}"


def test_the_consumer_encodes_a_video_and_survives_a_poison_one(environment, tmp_path):
    database = ServerDatabase(environment)
    poison = tmp_path / "poison.mp4"
    poison.write_bytes(b"\x00\x01 definitely not a video " * 500)
    made = shell(environment, CREATE_DRAFTS % json.dumps([
        ["poison", str(poison), 0],
        ["lesson", clip(tmp_path / "lesson.mp4", seconds=2, hue=0), 0]]))
    consumer = Consumer(environment, "first")
    try:
        def both_ended() -> bool:
            # The job's row ends last (after the files are marked).
            return all(database.job(item["job"])["state"] in ENDED for item in made.values())

        wait_until(both_ended, "both encodes ended", consumer.log_path)
        assert consumer.process.poll() is None, "the consumer died"
    finally:
        consumer.stop()

    bad = database.draft_file(made["poison"]["file"])
    assert bad["state"] == "Error" and "Invalid data found" in bad["error"], bad
    assert database.job(made["poison"]["job"])["state"] == "failed"
    good = database.draft_file(made["lesson"]["file"])
    assert good["state"] == "Finished", (good, consumer.log_path.read_text()[-3000:])
    job = database.job(made["lesson"]["job"])
    assert (job["state"], job["progress"], job["attempts"]) == ("done", 100, 1)
    for extension in ("mp4", "webm", "ogv", "png"):
        assert stored(environment, good["outputs"][extension], extension).is_file()


def test_a_consumer_killed_mid_encode_is_retried_then_gives_up(environment, tmp_path):
    """Two videos encode when the consumer is killed: one had deliveries left and finishes
    in the next consumer; the other was on its last (two earlier ones were killed) and ends
    in Error for the author."""
    database = ServerDatabase(environment)
    made = shell(environment, CREATE_DRAFTS % json.dumps([
        ["retried", clip(tmp_path / "retried.mp4", seconds=5, hue=90, width=1280,
                         height=720), 0],
        ["doomed", clip(tmp_path / "doomed.mp4", seconds=5, hue=180, width=1280,
                        height=720), 2]]))
    first = Consumer(environment, "killed")
    try:
        def both_mid_encode() -> bool:
            jobs = [database.job(item["job"]) for item in made.values()]
            return all(job["state"] == "running" and job["stage"] == "encode"
                       and 0 < job["progress"] < 100 for job in jobs)

        wait_until(both_mid_encode, "both encodes running", first.log_path)
    finally:
        first.kill()
    for item in made.values():
        assert database.job(item["job"])["state"] == "running"  # what a dead worker leaves
        assert database.draft_file(item["file"])["state"] == "Processing"

    reaped = shell(environment, REAP_LATER)
    assert reaped["requeued"] == [made["retried"]["job"]]
    assert reaped["failed"] == [made["doomed"]["job"]]

    second = Consumer(environment, "second")
    try:
        wait_until(lambda: database.job(made["retried"]["job"])["state"] in ENDED,
                   "the retried encode ended", second.log_path)
    finally:
        second.stop()
    retried = database.draft_file(made["retried"]["file"])
    assert retried["state"] == "Finished", (retried, second.log_path.read_text()[-3000:])
    job = database.job(made["retried"]["job"])
    assert (job["state"], job["attempts"]) == ("done", 2)
    for extension in ("mp4", "webm", "ogv", "png"):
        assert stored(environment, retried["outputs"][extension], extension).is_file()

    assert database.job(made["doomed"]["job"])["state"] == "failed"
    view = shell(environment, AUTHOR_VIEW)
    doomed = made["doomed"]["file"]
    state, _progress, error = view["shown"][doomed]
    assert state == "Error" and "stopped without finishing" in error
    assert view["settled"] == [doomed] and view["stored"][doomed] == [state, error]
