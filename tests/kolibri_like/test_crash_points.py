"""Every named crash point (kolibri_like.crashpoints), run in a real process that dies there by
SIGKILL; then start-up recovery, the invariant checker (which must find nothing), and the same
command again, which must complete exactly once: one version, one row, the channel serving the
expected version, every file present.

One demo channel is made and exported to a drive once for the module; each test copies a
prepared home (blank, channel installed, two versions, a draft ready to publish) and works in
the copy.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from kolibri_like.crashpoints import CRASH_POINTS, ENVIRONMENT_VARIABLE, crash_point
from tests.faults.homes import drive_files, manifest_claims_missing
from tests.kolibri_like.crash_homes import KILLED, CrashHome

pytestmark = pytest.mark.server
REPOSITORY = Path(__file__).resolve().parents[2]
WAIT_SECONDS = 120

# A draft with one finished PDF, ready to publish, owned by the author "erin" (token printed).
MAKE_DRAFT = """
import json
from accounts.models import User
from authoring.models import Draft
from rest_framework.authtoken.models import Token
from tests.authoring.factories import PDF, stored_draft_file
erin = User.objects.create_user("erin", password="erin-pass", role="author")
draft = Draft.objects.create(owner=erin, name="Fractions", topics=["Halves"])
stored_draft_file(draft, PDF, "halves.pdf", file_type="document", topic="Halves")
print(json.dumps({"draft": str(draft.id), "channel": draft.channel_id,
                  "token": Token.objects.create(user=erin).key}))
"""

PUBLISH = """
import json
from accounts.models import User
from authoring.errors import PublishConflictError
from authoring.publish import publish_draft
try:
    print(json.dumps(publish_draft(User.objects.get(username="erin"), %r).as_dict()))
except PublishConflictError as conflict:
    print(json.dumps({"conflict": str(conflict)}))
"""

# The draft published as version 1, and a new draft of the course made from it.
SECOND_DRAFT = """
import json
from accounts.models import User
from authoring.drafts import copy_draft
from authoring.models import Draft
from authoring.publish import publish_draft
erin = User.objects.get(username="erin")
first = Draft.objects.get()
publish_draft(erin, first.id)
first.refresh_from_db()
second = copy_draft(first, owner=erin)
Draft.objects.filter(id=second.id).update(name="Fractions, second edition")
print(json.dumps(str(second.id)))
"""

# A second version of an installed channel: its kept file with the number raised.
SECOND_VERSION = """
import json, shutil, sqlite3
from channels.versions import install_channel_version, version_database_path
from storage.paths import temp_root
copy = temp_root() / "second.sqlite3"
shutil.copy(version_database_path(%(channel)r, 1), copy)
with sqlite3.connect(copy) as connection:
    connection.execute("UPDATE content_channelmetadata SET version = 2")
connection.close()
print(json.dumps(install_channel_version(copy, %(channel)r, source_label="test").version.number))
"""

# A stored video in a draft, and its encode started, as the upload code does.
START_ENCODE = """
import json
from accounts.models import User
from authoring.encoding import start_encode
from authoring.models import Draft
from tests.authoring.factories import stored_draft_file
draft = Draft.objects.get(name="Fractions")
item = stored_draft_file(draft, __import__("pathlib").Path(%r), "lesson.mp4",
                         file_type="video", state="Processing")
start_encode(item)
item.refresh_from_db()
print(json.dumps({"file": item.id.hex, "job": item.job_id.hex, "checksum": item.checksum}))
"""

# What the every-minute reaper does once the dead worker's heartbeat is stale.
REAP_LATER = """
import json
from datetime import timedelta
from django.utils import timezone
from jobs.services import reap_stale_jobs
print(json.dumps(reap_stale_jobs(now=timezone.now() + timedelta(seconds=600)).as_dict()))
"""

# Cut between registering a newer version and making it current: the install's intent marker
# tells recovery to finish the switch (channels.recovery._finish_cut_switches).
CUT_BEFORE_SWITCH = ["version.before_switch", "switch.before_rename"]

CONSUMER = ("import os, django; os.environ.setdefault('DJANGO_SETTINGS_MODULE', "
            "'kolibri_like.settings'); django.setup(); import authoring.encoding; "
            "from django.core.management import call_command; call_command('run_huey')")


# The crash points themselves -------------------------------------------------------------

def test_a_crash_point_does_nothing_unless_named(monkeypatch):
    monkeypatch.delenv(ENVIRONMENT_VARIABLE, raising=False)
    crash_point("import.mid_file")
    monkeypatch.setenv(ENVIRONMENT_VARIABLE, "import.mid_file_other")
    crash_point("import.mid_file")
    monkeypatch.setenv(ENVIRONMENT_VARIABLE, "import.file_stored:2")
    crash_point("import.mid_file")


def test_a_crash_point_kills_at_the_nth_time(tmp_path):
    code = ("from kolibri_like.crashpoints import crash_point\n"
            "for count in range(1, 6):\n"
            "    crash_point('import.file_stored')\n"
            "    print(count, flush=True)\n")
    env = {**os.environ, ENVIRONMENT_VARIABLE: "import.file_stored:3"}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                            text=True, timeout=60, cwd=REPOSITORY)
    assert result.returncode == KILLED, result.stderr
    assert result.stdout.split() == ["1", "2"]


def test_every_crash_point_in_the_code_is_registered_and_used():
    used: dict[str, list[str]] = {}
    for path in REPOSITORY.rglob("*.py"):
        relative = path.relative_to(REPOSITORY)
        if relative.parts[0] in (".venv", "tests", "benchmarks") or \
                relative == Path("kolibri_like/crashpoints.py"):
            continue
        for name in re.findall(r"""crash_point\(["']([^"']+)["']\)""", path.read_text()):
            used.setdefault(name, []).append(str(relative))
    assert set(used) == set(CRASH_POINTS), (
        f"used, not registered: {sorted(set(used) - set(CRASH_POINTS))}; registered, not "
        f"used: {sorted(set(CRASH_POINTS) - set(used))}")
    assert all(len(places) == 1 for places in used.values()), used


# Prepared homes ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def prepared(tmp_path_factory) -> Iterator[dict]:
    """The demo channel on a drive, and homes to copy: blank, with the channel installed (no
    files), with its files and two versions, and with a draft ready to publish."""
    root = tmp_path_factory.mktemp("crash")
    blank = CrashHome(root / "blank").migrated()
    source = blank.copy_to(root / "source")
    channel_id = source.run("generate_demo_channel", "--nodes", "20", "--seed", "5") \
        .stdout.split()[-1]
    drive = root / "drive"
    drive.mkdir()
    source.run("exportcontent", channel_id, str(drive))
    installed = blank.copy_to(root / "installed")
    installed.run("importchannel", "disk", channel_id, str(drive))
    two_versions = installed.copy_to(root / "two-versions")
    two_versions.run("importcontent", "disk", channel_id, str(drive))
    assert two_versions.shell(SECOND_VERSION % {"channel": channel_id}) == 2
    newer_drive = root / "newer-drive"
    newer_drive.mkdir()
    two_versions.run("exportchannel", channel_id, str(newer_drive))
    drafted = blank.copy_to(root / "drafted")
    draft = drafted.shell(MAKE_DRAFT)
    republishing = drafted.copy_to(root / "republishing")
    second_draft = republishing.shell(SECOND_DRAFT)
    homes = [blank, source, installed, two_versions, drafted, republishing]
    yield {"blank": blank, "source": source, "installed": installed,
           "two_versions": two_versions,
           "drafted": drafted, "draft": draft, "channel_id": channel_id, "drive": drive,
           "newer_drive": newer_drive, "republishing": republishing,
           "second_draft": second_draft,
           "files": len(source.rows("SELECT checksum FROM storage_storedfile")), "homes": homes}
    for home in homes:
        home.drop_database()


@pytest.fixture
def copy_home(prepared, tmp_path) -> Iterator:
    made: list[CrashHome] = []

    def copy(name: str) -> CrashHome:
        home = prepared[name].copy_to(tmp_path / f"{name}-{len(made)}")
        made.append(home)
        return home

    yield copy
    for home in made:
        home.stop()
        home.drop_database()


def channel_state(home: CrashHome, channel_id: str) -> tuple[list, list]:
    channels = home.rows(f"SELECT version, state FROM channels_channel WHERE id = '{channel_id}'")
    versions = home.rows("SELECT number FROM channels_channelversion WHERE channel_id = "
                         f"'{channel_id}' ORDER BY number")
    return channels, [number for (number,) in versions]


# Import from a drive -----------------------------------------------------------------------

@pytest.mark.parametrize("point", ["import.database_copied", "version.placed",
                                   "version.before_switch", "import.after_switch"])
def test_an_importchannel_killed_at(point, prepared, copy_home):
    channel_id, drive = prepared["channel_id"], str(prepared["drive"])
    home = copy_home("blank")
    home.killed_at(point, "importchannel", "disk", channel_id, drive)
    home.recover_and_check()

    home.run("importchannel", "disk", channel_id, drive)
    again = home.run("importchannel", "disk", channel_id, drive)
    assert "already" in again.stdout.lower(), again.stdout
    assert channel_state(home, channel_id) == ([(1, "available")], [1])
    assert home.served_version(channel_id) == 1


@pytest.mark.parametrize("point", [*CUT_BEFORE_SWITCH, "switch.after_rename",
                                   "import.after_switch"])
def test_an_importchannel_of_a_newer_version_killed_at(point, prepared, copy_home):
    channel_id, drive = prepared["channel_id"], str(prepared["newer_drive"])
    home = copy_home("installed")
    home.killed_at(point, "importchannel", "disk", channel_id, drive)
    home.recover_and_check()

    home.run("importchannel", "disk", channel_id, drive)
    assert channel_state(home, channel_id) == ([(2, "available")], [1, 2])
    assert home.served_version(channel_id) == 2


@pytest.mark.parametrize("point", ["import.mid_file", "import.file_stored:3"])
def test_an_importcontent_killed_at(point, prepared, copy_home):
    channel_id, drive = prepared["channel_id"], str(prepared["drive"])
    home = copy_home("installed")
    home.killed_at(point, "importcontent", "disk", channel_id, drive)
    stored_before = len(home.rows("SELECT checksum FROM storage_storedfile"))
    assert stored_before == (3 if point.endswith(":3") else 0)
    home.recover_and_check()
    assert home.rows("SELECT state FROM channels_contentimport") == [("interrupted",)]

    home.run("importcontent", "disk", channel_id, drive)
    assert home.rows("SELECT state, files_done FROM channels_contentimport") == [
        ("done", prepared["files"])]
    stored = home.rows("SELECT checksum, extension, size FROM storage_storedfile")
    assert len(stored) == prepared["files"]
    for checksum, extension, size in stored:
        assert home.stored_path(checksum, extension).stat().st_size == size
    home.run("checkinvariants", "--full")


# Import from a peer on the LAN -------------------------------------------------------------

@pytest.fixture(scope="module")
def peer(prepared) -> Iterator[str]:
    """The URL of a running server that serves the demo channel and its files."""
    prepared["source"].start()
    yield prepared["source"].url
    prepared["source"].stop()


def test_an_importchannel_network_killed_with_the_database_downloaded(prepared, copy_home,
                                                                        peer):
    channel_id = prepared["channel_id"]
    home = copy_home("blank")
    home.killed_at("network.database_downloaded", "importchannel", "network", channel_id, peer)
    home.recover_and_check()
    assert channel_state(home, channel_id) == ([], [])

    home.run("importchannel", "network", channel_id, peer)
    assert "already" in home.run("importchannel", "network", channel_id, peer).stdout.lower()
    assert channel_state(home, channel_id) == ([(1, "available")], [1])
    assert home.served_version(channel_id) == 1
    assert not list((home.content_dir / "tmp").glob("network-*"))


def test_an_importcontent_network_killed_with_a_file_downloaded(prepared, copy_home, peer):
    channel_id = prepared["channel_id"]
    home = copy_home("installed")
    home.killed_at("network.file_downloaded:3", "importcontent", "network", channel_id, peer)
    home.recover_and_check()
    assert home.rows("SELECT state FROM channels_contentimport") == [("interrupted",)]

    home.run("importcontent", "network", channel_id, peer)
    assert home.rows("SELECT state, files_done FROM channels_contentimport") == [
        ("done", prepared["files"])]
    stored = home.rows("SELECT checksum, extension, size FROM storage_storedfile")
    assert len(stored) == prepared["files"]
    for checksum, extension, size in stored:
        assert home.stored_path(checksum, extension).stat().st_size == size
    assert not list((home.content_dir / "tmp").glob("network-*"))
    home.run("checkinvariants", "--full")


# Export to a drive -------------------------------------------------------------------------

def drive_version(drive: Path, channel_id: str) -> int | None:
    """The version of the channel database on the drive (None: no database there)."""
    path = drive / "KOLIBRI_DATA" / "content" / "databases" / f"{channel_id}.sqlite3"
    if not path.exists():
        return None
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
        (version,), = connection.execute("SELECT version FROM content_channelmetadata")
    return int(version)


@pytest.mark.parametrize("point, older_on_drive", [
    ("export.file_copied:3", False),
    ("export.database_copied", False),
    ("export.manifest_written", True),
    ("export.database_copied", True),
])
def test_an_exportcontent_killed_at(point, older_on_drive, prepared, copy_home, tmp_path):
    """The drive is a complete older state (version 1 exported before) or clearly unfinished
    (no database), its manifest never claims a file that is not there, and a re-run
    completes it."""
    channel_id = prepared["channel_id"]
    home = copy_home("two_versions")
    drive = tmp_path / "usb"
    if older_on_drive:
        shutil.copytree(prepared["drive"], drive)
    else:
        drive.mkdir()
    home.killed_at(point, "exportcontent", channel_id, str(drive))
    tree = home.content_dir / "databases" / "versions" / channel_id / "1.sqlite3"
    assert drive_version(drive, channel_id) == (1 if older_on_drive else None)
    assert manifest_claims_missing(drive, tree) == []
    for name, size in drive_files(drive).items():
        if "/storage/" in name and not name.endswith(".partial"):
            checksum, extension = Path(name).name.split(".")
            assert home.stored_path(checksum, extension).stat().st_size == size, name
    home.recover_and_check()

    home.run("exportcontent", channel_id, str(drive))
    assert drive_version(drive, channel_id) == 2
    assert not [name for name in drive_files(drive) if name.endswith(".partial")]
    assert len([name for name in drive_files(drive) if "/storage/" in name]) == prepared["files"]
    assert manifest_claims_missing(drive, tree) == []
    blank = copy_home("blank")
    blank.run("importchannel", "disk", channel_id, str(drive))
    blank.run("importcontent", "disk", channel_id, str(drive))
    assert channel_state(blank, channel_id) == ([(2, "available")], [2])
    assert len(blank.rows("SELECT checksum FROM storage_storedfile")) == prepared["files"]


# Publish -----------------------------------------------------------------------------------

@pytest.mark.parametrize("point", ["publish.temp_built", "publish.temp_synced",
                                   "version.placed", "version.before_switch",
                                   "switch.before_rename", "switch.after_rename",
                                   "publish.after_switch"])
def test_a_publish_killed_at(point, prepared, copy_home):
    draft_id, channel_id = prepared["draft"]["draft"], prepared["draft"]["channel"]
    home = copy_home("drafted")
    home.killed_at(point, "shell", "-c", PUBLISH % draft_id)
    home.recover_and_check()
    (state,), = home.rows("SELECT state FROM authoring_draft")
    made_before = point in ("version.before_switch", "switch.before_rename",
                            "switch.after_rename", "publish.after_switch")
    assert state == ("published" if made_before else "open")

    published = home.shell(PUBLISH % draft_id)
    if made_before:
        assert "conflict" in published, published
    else:
        assert published["version"] == 1, published
    assert "conflict" in home.shell(PUBLISH % draft_id)
    assert channel_state(home, channel_id) == ([(1, "available")], [1])
    assert home.served_version(channel_id) == 1
    assert home.rows("SELECT state, published_version FROM authoring_draft") == [("published", 1)]


@pytest.mark.parametrize("point", [*CUT_BEFORE_SWITCH, "switch.after_rename",
                                   "publish.after_switch"])
def test_a_publish_of_a_second_version_killed_at(point, prepared, copy_home):
    draft_id, channel_id = prepared["second_draft"], prepared["draft"]["channel"]
    home = copy_home("republishing")
    home.killed_at(point, "shell", "-c", PUBLISH % draft_id)
    home.recover_and_check()

    home.shell(PUBLISH % draft_id)
    assert channel_state(home, channel_id) == ([(2, "available")], [1, 2])
    assert home.served_version(channel_id) == 2
    assert sorted(home.rows("SELECT state, published_version FROM authoring_draft")) == [
        ("published", 1), ("published", 2)]


# Revert ------------------------------------------------------------------------------------

@pytest.mark.parametrize("point", ["switch.before_rename", "switch.after_rename"])
def test_a_revert_killed_at(point, prepared, copy_home):
    channel_id = prepared["channel_id"]
    home = copy_home("two_versions")
    assert home.served_version(channel_id) == 2
    home.killed_at(point, "revertchannel", channel_id, "1")
    home.recover_and_check()
    expected = 1 if point == "switch.after_rename" else 2
    assert channel_state(home, channel_id) == ([(expected, "available")], [1, 2])
    assert home.served_version(channel_id) == expected

    home.run("revertchannel", channel_id, "1")
    assert channel_state(home, channel_id) == ([(1, "available")], [1, 2])
    assert home.served_version(channel_id) == 1


# Encode in a consumer ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def video(tmp_path_factory) -> Path:
    from media.ffmpeg import build_test_video_args, run_ffmpeg

    path = tmp_path_factory.mktemp("video") / "lesson.mp4"
    run_ffmpeg(build_test_video_args(path, container="mp4", duration=1.0, width=96, height=64,
                                     hue_degrees=0), timeout=120)
    return path


def consume(home: CrashHome, *, crash_at: str | None = None,
            until: str | None = None) -> int | None:
    """Run a Huey consumer: with `crash_at`, until it dies (its exit code); else until the
    job `until` has ended, then stop it."""
    env = dict(home.env)
    if crash_at:
        env[ENVIRONMENT_VARIABLE] = crash_at
    log = home.home / "consumer.log"
    with open(log, "ab") as output:
        process = subprocess.Popen([sys.executable, "-c", CONSUMER], env=env, stdout=output,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            if process.poll() is not None:
                return process.returncode
            if until and home.rows(f"SELECT state FROM jobs_job WHERE id = '{until}'")[0][0] \
                    in ("done", "failed", "cancelled"):
                return None
            time.sleep(0.2)
        raise AssertionError(f"the consumer did not get there in {WAIT_SECONDS}s:\n"
                             f"{log.read_text(errors='replace')[-4000:]}")
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)


@pytest.mark.parametrize("point", ["encode.outputs_stored", "encode.before_rows"])
def test_an_encode_killed_at(point, copy_home, video):
    home = copy_home("drafted")
    started = home.shell(START_ENCODE % str(video))
    assert consume(home, crash_at=point) == KILLED
    home.recover_and_check()
    assert home.rows(f"SELECT state FROM authoring_draftfile WHERE id = '{started['file']}'") \
        == [("Processing",)]
    assert home.shell(REAP_LATER)["requeued"] == [str(uuid.UUID(started["job"]))]

    assert consume(home, until=started["job"]) is None
    assert home.rows("SELECT state, attempts FROM jobs_job") == [("done", 2)]
    (state, outputs), = home.rows("SELECT state, outputs FROM authoring_draftfile "
                                  f"WHERE id = '{started['file']}'")
    assert state == "Finished"
    outputs = json.loads(outputs) if isinstance(outputs, str) else dict(outputs)  # PostgreSQL
    outputs.pop("duration")
    assert len(outputs) == 4, outputs
    for checksum in outputs.values():
        (extension, size), = home.rows("SELECT extension, size FROM storage_storedfile "
                                       f"WHERE checksum = '{checksum}'")
        assert home.stored_path(checksum, extension).stat().st_size == size
    home.run("checkinvariants", "--full")


# Upload through a running server's tus API -------------------------------------------------

def upload_body() -> bytes:
    from tests.authoring.factories import PDF

    return PDF + b"%" + bytes(range(256)) * 1024 + b"\n%%EOF\n"


def send_from(session: requests.Session, url: str, data: bytes, offset: int) -> int:
    while offset < len(data):
        sent = session.patch(url, data=data[offset:offset + 100_000], headers={
            "Tus-Resumable": "1.0.0", "Upload-Offset": str(offset),
            "Content-Type": "application/offset+octet-stream"}, timeout=30)
        assert sent.status_code == 204, sent.text
        offset = int(sent.headers["Upload-Offset"])
    return offset


@pytest.mark.parametrize("point", ["upload.bytes_written", "upload.stored"])
def test_an_upload_killed_at(point, prepared, copy_home):
    draft, data = prepared["draft"], upload_body()
    home = copy_home("drafted")
    home.env[ENVIRONMENT_VARIABLE] = point
    session = requests.Session()
    session.headers["Authorization"] = f"Token {draft['token']}"
    home.start()
    created = session.post(f"{home.url}/api/drafts/{draft['draft']}/files/", headers={
        "Tus-Resumable": "1.0.0", "Upload-Length": str(len(data)),
        "Upload-Metadata": f"filename {base64.b64encode(b'notes.pdf').decode()}"})
    assert created.status_code == 201, created.text
    path = created.headers["Location"].removeprefix(home.url)
    with pytest.raises(requests.ConnectionError):
        send_from(session, home.url + path, data, 0)
    assert home.process is not None and home.process.wait(timeout=30) == KILLED
    home.stop()
    del home.env[ENVIRONMENT_VARIABLE]
    home.recover_and_check()

    home.start()
    offset = int(session.head(home.url + path, headers={"Tus-Resumable": "1.0.0"})
                 .headers["Upload-Offset"])
    assert offset == (0 if point == "upload.bytes_written" else len(data))
    assert send_from(session, home.url + path, data, offset) == len(data)
    shown = session.get(home.url + path).json()
    home.stop()
    assert shown["state"] == "Finished", shown
    checksum = hashlib.md5(data).hexdigest()
    assert home.rows("SELECT name, state, checksum FROM authoring_draftfile "
                     "WHERE name = 'notes.pdf'") == [("notes.pdf", "Finished", checksum)]
    assert home.rows(f"SELECT size FROM storage_storedfile WHERE checksum = '{checksum}'") == [
        (len(data),)]
    assert home.stored_path(checksum, "pdf").read_bytes() == data
    (partial_name, completed), = home.rows("SELECT partial_name, checksum FROM "
                                           "authoring_uploadrecord")
    assert completed == checksum
    assert not list(home.content_dir.rglob(partial_name)), "the partial upload was left"
    home.run("checkinvariants", "--full")
